// Keys cannot silently change (embedded SQLite store): a daemon whose subject key or log key
// is missing makes no new one for a store that holds records, and one with another key refuses
// to start; each names the file to restore. With the keys restored it starts and serves as
// before.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "integration/test_daemon.h"
#include "merkle/signed_note.h"
#include "test_util.h"
#include "unit/test_envelopes.h"

namespace infoflyt::testing {
namespace {

namespace fs = std::filesystem;

class StoreKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(daemon_.Start()) << daemon_.Log();
    v1::Receipt receipt;
    ASSERT_TRUE(daemon_.Client("correctional-oslo-fengsel")
                    ->Post(ReleaseNotice("before", kValidFnr), &receipt)
                    .ok());
    ASSERT_EQ(daemon_.Terminate(), 0);
  }
  // Starts with `path` moved away (or replaced by `replacement`); expects a refusal whose log
  // names the file and `why`; then puts the file back.
  void ExpectRefusal(const std::string& path, const std::string& why,
                     const std::string& replacement = "") {
    const std::string kept = path + ".kept";
    fs::rename(path, kept);
    if (!replacement.empty()) std::ofstream(path, std::ios::binary) << replacement;
    EXPECT_FALSE(daemon_.Start());
    const std::string log = daemon_.Log();
    EXPECT_NE(log.find(why), std::string::npos) << log;
    if (replacement.empty()) {
      EXPECT_FALSE(fs::exists(path)) << "a new key was made";
    }
    fs::rename(kept, path);
  }

  TestDaemon daemon_;
};

TEST_F(StoreKeysTest, AMissingOrOtherKeyOnAUsedStoreRefusesToStartNamingTheFile) {
  ExpectRefusal(daemon_.subject_key_path(),
                daemon_.subject_key_path() + " (the data-subject hash key) is missing");
  ExpectRefusal(daemon_.log_key_path(),
                daemon_.log_key_path() + " (the disclosure-log signing key) is missing");
  ExpectRefusal(daemon_.subject_key_path(),
                "audit.subject_key_file " + daemon_.subject_key_path() + " differs",
                std::string(32, 'k'));
  const std::string verifier_key = ReadFile(daemon_.log_key_path() + ".pub");
  std::unique_ptr<merkle::NoteSigner> other;
  ASSERT_TRUE(
      merkle::NoteSigner::Generate(verifier_key.substr(0, verifier_key.find('+')), &other).ok());
  ExpectRefusal(daemon_.log_key_path(), "log.key_file " + daemon_.log_key_path() + " differs",
                other->PrivateKey() + "\n");
  // The right keys again: it starts and serves.
  ASSERT_TRUE(daemon_.Start()) << daemon_.Log();
  v1::Receipt receipt;
  EXPECT_TRUE(daemon_.Client("correctional-oslo-fengsel")
                  ->Post(ReleaseNotice("after", kValidFnr), &receipt)
                  .ok());
}

}  // namespace
}  // namespace infoflyt::testing
