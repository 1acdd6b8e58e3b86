// A delivery as its page shows it: every field set in the recipient's view of the message,
// labelled in Norwegian, and nothing else (the view is what the store holds for the recipient;
// this only lays it out).
#pragma once

#include <string>

#include "core/catalogs.h"
#include "infoflyt/v1/messages.pb.h"
#include "web/page.h"

namespace infoflyt {

// "Løslatelse" etc. for a message type as stored ("release_notice").
std::string MessageTypeLabel(std::string_view message_type);
// The person the message is about, by name as the view holds it ("" if it holds none).
std::string SubjectName(const v1::Envelope& envelope);

// A list of sections ({key, title, contact, rows: [{label, value, href}]}) for
// templates/delivery.mustache: the body's fields, its person and contact, and the legal basis
// with its citation and title from `catalogs`.
TemplateData EnvelopeSections(const v1::Envelope& envelope, const Catalogs& catalogs);

}  // namespace infoflyt
