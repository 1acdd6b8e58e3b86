// Verifies, in the auditor's own browser, what the daemon says about its log: a record's
// inclusion proof (RFC 9162 § 2.1.3.2) up to a signed checkpoint (C2SP tlog-checkpoint in a
// signed note, Ed25519), against the log key the auditor configured here (never one the daemon
// supplies), with WebCrypto. On a record's page it also decodes the leaf's protobuf bytes and
// checks that every fact the page shows is what was logged, and that none was left out.
// Written by hand from the specifications: these few checks are the point of the page, and no
// npm package does them over WebCrypto alone.
"use strict";
(() => {
  const panel = document.getElementById("verify");
  if (!panel) return;
  const keyInput = document.getElementById("log-key");
  const result = document.getElementById("verify-result");
  const button = document.getElementById("verify-button");
  const storageKey = "infoflyt.logKey";
  const utf8 = new TextEncoder();
  const text = new TextDecoder("utf-8", { fatal: true });

  class Failure extends Error {}
  const fail = (message) => { throw new Failure(message); };

  function fromBase64(s, what) {
    let binary;
    try { binary = atob(s); } catch (e) { fail(what + " er ikke base64"); }
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  }
  const hex = (bytes) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  const equal = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
  function concat(...parts) {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) { out.set(p, at); at += p.length; }
    return out;
  }
  const sha256 = async (...parts) =>
    new Uint8Array(await crypto.subtle.digest("SHA-256", concat(...parts)));
  const leafHash = (leaf) => sha256(Uint8Array.of(0), leaf);
  const nodeHash = (left, right) => sha256(Uint8Array.of(1), left, right);

  // A note verifier key: "<name>+<8 hex digit key id>+<base64(0x01 || Ed25519 public key)>".
  async function parseKey(value) {
    // The name has no "+"; base64 may.
    const [name, id, ...rest] = value.trim().split("+");
    const encoded = rest.join("+");
    if (!name || !/^[0-9a-fA-F]{8}$/.test(id || "") || !encoded) {
      fail("nøkkelen har ikke formen navn+id+nøkkel");
    }
    const key = fromBase64(encoded, "nøkkelens siste del");
    if (key.length !== 33 || key[0] !== 1) fail("nøkkelen er ikke en Ed25519-nøkkel");
    const keyId = (await sha256(utf8.encode(name + "\n"), key)).slice(0, 4);
    if (hex(keyId) !== id.toLowerCase()) fail("nøkkelens id stemmer ikke med navnet og nøkkelen");
    let publicKey;
    try {
      publicKey = await crypto.subtle.importKey("raw", key.slice(1), { name: "Ed25519" }, false,
        ["verify"]);
    } catch (e) {
      fail("nettleseren kan ikke bruke Ed25519-nøkler (WebCrypto): " + e.message);
    }
    return { name, keyId, publicKey, text: value.trim() };
  }

  // Opens a signed note with the key: its text if a signature line of the key verifies.
  async function openNote(note, key) {
    const end = note.lastIndexOf("\n\n");
    if (end < 0 || !note.endsWith("\n")) fail("sjekkpunktet er ikke en signert note");
    const body = note.slice(0, end + 1);
    let signedByKey = false;
    for (const line of note.slice(end + 2, -1).split("\n")) {
      const prefix = "\u2014 " + key.name + " ";
      if (!line.startsWith(prefix)) continue;
      const signature = fromBase64(line.slice(prefix.length), "en signatur");
      if (signature.length !== 68 || !equal(signature.slice(0, 4), key.keyId)) continue;
      signedByKey = true;
      if (await crypto.subtle.verify({ name: "Ed25519" }, key.publicKey, signature.slice(4),
        utf8.encode(body))) {
        return body;
      }
    }
    fail(signedByKey ? "sjekkpunktets signatur med nøkkelen er ugyldig"
      : "sjekkpunktet er ikke signert med nøkkelen " + key.text);
  }

  // The checkpoint's text: origin, size in decimal, base64 root hash, extension lines.
  function parseCheckpoint(body, key) {
    const [origin, size, root] = body.split("\n");
    if (origin !== key.name) {
      fail("sjekkpunktets opphav «" + origin + "» er ikke nøkkelens navn «" + key.name + "»");
    }
    if (!/^(0|[1-9][0-9]*)$/.test(size || "")) fail("sjekkpunktets størrelse er ugyldig");
    const rootHash = fromBase64(root || "", "sjekkpunktets rot-hash");
    if (rootHash.length !== 32) fail("sjekkpunktets rot-hash er ikke 32 byte");
    return { origin, size: BigInt(size), root: rootHash };
  }

  // RFC 9162 § 2.1.3.2, with BigInt: indexes pass 2^31, where JavaScript's bit operators stop.
  async function rootFromInclusion(hash, index, size, path) {
    if (index >= size) fail("posten er ikke i treet sjekkpunktet gjelder");
    let fn = index;
    let sn = size - 1n;
    let r = hash;
    for (const p of path) {
      if (sn === 0n) fail("inklusjonsbeviset er for langt");
      if ((fn & 1n) === 1n || fn === sn) {
        r = await nodeHash(p, r);
        while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
      } else {
        r = await nodeHash(r, p);
      }
      fn >>= 1n;
      sn >>= 1n;
    }
    if (sn !== 0n) fail("inklusjonsbeviset er for kort");
    return r;
  }

  // Protobuf's wire format, as much as a DisclosureRecord uses: varints and length-delimited
  // fields (strings, bytes, the Timestamp message).
  function decodeFields(bytes) {
    const fields = new Map();
    let at = 0;
    const varint = () => {
      let value = 0n;
      for (let shift = 0n; ; shift += 7n) {
        if (at >= bytes.length) fail("postens bytes er ikke en gyldig protobuf");
        const b = bytes[at++];
        // A 64-bit value's tenth byte holds one bit; more would be cut off by the C++ reader.
        if (shift === 63n && b > 1) fail("postens bytes har et for langt tall");
        value |= BigInt(b & 0x7f) << shift;
        if ((b & 0x80) === 0) return value;
      }
    };
    while (at < bytes.length) {
      const tag = varint();
      const field = Number(tag >> 3n);
      const wire = Number(tag & 7n);
      // A logged leaf is protobuf's deterministic encoding: each field once.
      if (fields.has(field)) fail("postens bytes har felt " + field + " to ganger");
      if (wire === 0) {
        fields.set(field, varint());
      } else if (wire === 2) {
        const length = Number(varint());
        if (at + length > bytes.length) fail("postens bytes er avkortet");
        fields.set(field, bytes.slice(at, at + length));
        at += length;
      } else {
        fail("postens bytes har en felttype en post ikke har");
      }
    }
    return fields;
  }

  // A field of the leaf as the page writes it (see web/log_pages.cc).
  const bytesFields = new Set([11, 14]);
  function shown(field, value) {
    if (typeof value === "bigint") return value.toString();
    if (bytesFields.has(field)) return hex(value);
    if (field === 2) {
      const t = decodeFields(value);
      const seconds = Number(t.get(1) || 0n);
      const micros = String(Math.floor(Number(t.get(2) || 0n) / 1000)).padStart(6, "0");
      return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, "." + micros + "Z");
    }
    return text.decode(value);
  }

  // Every fact the page shows is the leaf's, and every field of the leaf is shown.
  function checkFacts(leaf, index) {
    const fields = decodeFields(leaf);
    if ((fields.get(1) || 0n) !== index) fail("beviset gjelder en annen post enn denne");
    const facts = [...document.querySelectorAll("#record-facts [data-field]")];
    for (const fact of facts) {
      const field = Number(fact.dataset.field);
      const logged = field === 1 ? index.toString()
        : fields.has(field) ? shown(field, fields.get(field)) : "";
      if (fact.textContent !== logged) {
        fail("«" + fact.previousElementSibling.textContent + "» på siden er ikke det som ble loggført");
      }
    }
    const onPage = new Set(facts.map((f) => Number(f.dataset.field)));
    for (const field of fields.keys()) {
      if (!onPage.has(field)) fail("siden viser ikke felt " + field + " som ble loggført");
    }
  }

  async function fetchJson(url) {
    let response;
    try {
      response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
    } catch (e) {
      fail("kunne ikke hente " + url);
    }
    if (!response.ok) fail("kunne ikke hente " + url + " (" + response.status + ")");
    return response.json();
  }

  async function verifyRecord(key) {
    const proof = await fetchJson(panel.dataset.proof);
    const index = BigInt(panel.dataset.index);
    const body = await openNote(proof.checkpoint?.note || "", key);
    const checkpoint = parseCheckpoint(body, key);
    if (BigInt(proof.checkpoint.tree_size || 0) !== checkpoint.size ||
      checkpoint.size !== BigInt(panel.dataset.treeSize)) {
      fail("beviset gjelder ikke sjekkpunktet siden viser");
    }
    // What the page shows decides what must be proven: facts on the page need their leaf.
    const showsFacts = document.getElementById("record-facts") !== null;
    let hash;
    if (!showsFacts) {
      hash = fromBase64(proof.leaf_hash || "", "postens hash");
    } else if (proof.out_of_scope || !proof.leaf) {
      fail("beviset har ikke postens bytes, men siden viser posten");
    } else {
      const leaf = fromBase64(proof.leaf, "postens bytes");
      checkFacts(leaf, index);
      hash = await leafHash(leaf);
    }
    const path = (proof.hashes || []).map((h) => fromBase64(h, "en hash i beviset"));
    checkShownCheckpoint(checkpoint);
    const root = await rootFromInclusion(hash, index, checkpoint.size, path);
    if (!equal(root, checkpoint.root)) {
      fail("inklusjonsbeviset fører ikke til sjekkpunktets rot-hash");
    }
    return "post " + index + (showsFacts ? "" : " (utenfor ditt innsyn: dens hash)") +
      " er med i loggen ved sjekkpunktet av " + checkpoint.size + " poster" +
      (showsFacts ? ", og det siden viser, er det som ble loggført." : ".");
  }

  // The size and root hash the page shows are the signed checkpoint's.
  function checkShownCheckpoint(checkpoint) {
    const size = document.getElementById("tree-size");
    const root = document.getElementById("root-hash");
    if (!size || size.textContent !== checkpoint.size.toString() || !root ||
      root.textContent !== hex(checkpoint.root)) {
      fail("sjekkpunktet siden viser, er ikke det som er signert");
    }
  }

  // The log's page: the signed note it shows, as it stands in the page (no second fetch).
  async function verifyCheckpoint(key) {
    const note = document.getElementById("checkpoint-note");
    const checkpoint = parseCheckpoint(await openNote(note ? note.textContent : "", key), key);
    checkShownCheckpoint(checkpoint);
    return "sjekkpunktet av " + checkpoint.size + " poster er signert av loggen " +
      checkpoint.origin + ".";
  }

  async function verify() {
    const value = keyInput.value.trim();
    if (!value) {
      result.className = "live notice notice-error";
      result.textContent = "Skriv inn loggens verifiseringsnøkkel først.";
      keyInput.focus();
      return;
    }
    localStorage.setItem(storageKey, value);
    result.className = "live notice";
    result.textContent = "Verifiserer …";
    try {
      const key = await parseKey(value);
      const said = panel.dataset.proof ? await verifyRecord(key) : await verifyCheckpoint(key);
      result.className = "live notice notice-ok";
      result.textContent = "Verifisert mot nøkkel " + key.name + "+" + hex(key.keyId) + ": " + said;
      panel.dataset.verified = "true";
    } catch (e) {
      result.className = "live notice notice-error";
      result.textContent = "Verifiseringen feilet: " +
        (e instanceof Failure ? e.message : "uventet feil (" + e.message + ")") + ".";
      panel.dataset.verified = "false";
    }
  }

  keyInput.value = localStorage.getItem(storageKey) || "";
  button.addEventListener("click", verify);
  if (keyInput.value) verify();
})();
