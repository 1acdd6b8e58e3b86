// Rows read back as disclosure records and flags, written once for every backend: each backend's
// queries select the columns in the order below, and a backend's row type offers
// Int(column), Text(column) and IsNull(column) (SqliteStatement does; PgStore wraps a PgResult
// row). So both map the same row to the same record, the one its log leaf was made from.
#pragma once

#include <cstdint>
#include <optional>

#include "base/clock.h"
#include "core/time_util.h"
#include "infoflyt/v1/audit.pb.h"
#include "store/store.h"

namespace infoflyt {

// A disclosure record's columns, in the order RecordFromColumns reads them:
//   leaf index, occurred_at, event, outcome, message_id, delivery_id, sender,
//   sender_certificate_subject, sender_certificate_fingerprint, recipient, subject_hash,
//   message_type, view, content_hash, legal_basis, legal_citation, handling, reason, instance,
//   version, on_behalf_of
inline constexpr int kRecordColumns = 21;

template <typename Row>
v1::DisclosureRecord RecordFromColumns(const Row& q) {
  v1::DisclosureRecord r;
  r.set_index(static_cast<uint64_t>(q.Int(0)));
  const int64_t at = q.Int(1);
  r.mutable_occurred_at()->set_seconds(at / kMicrosPerSecond);
  r.mutable_occurred_at()->set_nanos(static_cast<int32_t>(at % kMicrosPerSecond) * 1000);
  r.set_event(q.Text(2));
  r.set_outcome(q.Text(3));
  r.set_message_id(q.Text(4));
  if (!q.IsNull(5)) r.set_delivery_id(static_cast<uint64_t>(q.Int(5)));
  r.set_sender(q.Text(6));
  r.set_sender_certificate_subject(q.Text(7));
  r.set_sender_certificate_fingerprint(q.Text(8));
  r.set_recipient(q.Text(9));
  r.set_subject_hash(q.Text(10));
  r.set_message_type(q.Text(11));
  r.set_view(q.Text(12));
  r.set_content_hash(q.Text(13));
  r.set_legal_basis(q.Text(14));
  r.set_legal_citation(q.Text(15));
  r.set_handling(q.Text(16));
  r.set_reason(q.Text(17));
  r.set_instance(q.Text(18));
  r.set_version(q.Text(19));
  r.set_on_behalf_of(q.Text(20));
  return r;
}

// A flag's columns: flag_id, reason, flagged_by, legal_basis, flagged_at, expires_at,
// unflagged_at, unflagged_by.
template <typename Row>
FlagInfo FlagFromColumns(const Row& q) {
  FlagInfo f{q.Text(0),    q.Text(1),    q.Text(2), q.Text(3), q.Int(4),
             std::nullopt, std::nullopt, q.Text(7), q.Text(8)};
  if (!q.IsNull(5)) f.expires_at = q.Int(5);
  if (!q.IsNull(6)) f.unflagged_at = q.Int(6);
  return f;
}

// A record's delivery, stored as NULL for records of no delivery (delivery ids start at 1).
inline std::optional<int64_t> DeliveryIdOf(const v1::DisclosureRecord& r) {
  if (r.delivery_id() == 0) return std::nullopt;
  return static_cast<int64_t>(r.delivery_id());
}

// Microseconds since the epoch of a record's occurred_at, as stored.
inline int64_t OccurredAt(const v1::DisclosureRecord& r) { return ToMicros(r.occurred_at()); }

}  // namespace infoflyt
