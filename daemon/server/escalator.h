// Escalation of unacknowledged municipal notices. An Asio timer is armed for the earliest open
// acknowledgement deadline in the store; when it fires, every overdue delivery gets an
// EscalationNotice to the notice's sender and to the municipality's police district. Deadlines
// live in the store, so after a restart the timer is re-armed from there and what fell due while
// the daemon was down is escalated at once; the store's EscalateOp makes each escalation happen
// exactly once however often a sweep runs.
//
// Several daemons on one database each watch every deadline: their own, those in the store at
// start, and those the others store (Watch, from the store's commit notifications; Rearm after
// notifications may have been missed). So while all run they race for each escalation, which
// the store lets exactly one win, and when one dies the others escalate what it stored.
#pragma once

#include <asio/strand.hpp>
#include <asio/system_timer.hpp>
#include <optional>

#include "server/exchange_service.h"

namespace infoflyt {

class Escalator {
 public:
  // `own_certificate` is the daemon's TLS certificate: the escalation's "releasing party".
  Escalator(ServiceContext ctx, PeerCertificate own_certificate);
  Escalator(const Escalator&) = delete;
  Escalator& operator=(const Escalator&) = delete;

  // Arms the timer from the store (escalating at once what is overdue). Call once serving.
  void Start();
  // A deadline was stored (by this daemon or, told by the store's notifications, another one
  // sharing the database); re-arms the timer if it is earlier than the one watched. Any thread.
  void Watch(int64_t deadline);
  // Re-arms from the store's earliest deadline: for when deadlines may have been stored that
  // this daemon was not told of (its notifications from other daemons were interrupted). Any
  // thread.
  void Rearm();

 private:
  // On the strand: arm for the store's next deadline. After a sweep that found nothing due, a
  // deadline already past (which the store then cannot escalate) is retried later, not at once.
  void Arm(bool after_empty_sweep = false);
  void Sweep();  // On the strand: escalate everything overdue, then Arm.
  void ArmAt(int64_t deadline);
  // False if the overdue delivery's municipality or parties no longer resolve to anyone.
  bool Build(const Catalogs& catalogs, const OverdueDelivery& overdue, EscalateOp* op) const;
  void Submit(EscalateOp op);

  const ServiceContext ctx_;
  const PeerCertificate own_certificate_;
  asio::strand<asio::any_io_executor> strand_;
  asio::system_timer timer_;
  std::optional<int64_t> armed_for_;  // The deadline the timer waits for; strand only.
  int in_flight_ = 0;                 // Escalations submitted, not yet committed; strand only.
};

}  // namespace infoflyt
