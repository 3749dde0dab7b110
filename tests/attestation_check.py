#!/usr/bin/env python3
"""Checks the SBOM and provenance pbrx attaches to an image in an OCI layout.

  attestation_check.py LAYOUT REF [--pypi NAME]... [--deb NAME]...
                       [--builder ID] [--print-digests]

Finds the image REF names in LAYOUT/index.json, its referrers (index entries
without a ref name whose manifest's subject is the image), and checks:
  - exactly one application/spdx+json and one application/vnd.in-toto+json
    artifact manifest, each an OCI 1.1 artifact (artifactType, the empty
    config, one layer of that media type, subject = the image's descriptor),
    every blob present and matching its digest;
  - the SPDX document against the SPDX 2.3 fields the spec requires
    (document: spdxVersion, dataLicense CC0-1.0, SPDXID, name,
    documentNamespace, creationInfo.created/creators; package: name, SPDXID,
    downloadLocation; unique SPDXIDs of the allowed characters;
    relationships between known elements); the image package named by the
    image's digest; every --pypi and --deb name present with a purl of that
    type, a version and (pypi) a SHA256 checksum;
  - the in-toto statement: Statement v1, SLSA provenance v1, subject = the
    image digest, the --builder id, every pypi wheel among the resolved
    dependencies with the SBOM's checksum.
With --print-digests prints "SBOM_DIGEST PROVENANCE_DIGEST".
No SPDX validator is packaged in Debian 12, hence this check of the spec's
required fields. Exit 1 with the first problem on stderr.
"""
import argparse
import hashlib
import json
import os
import re
import sys


def fail(msg):
    print(f"attestation_check: {msg}", file=sys.stderr)
    sys.exit(1)


def blob(layout, digest):
    if not re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
        fail(f"bad digest {digest!r}")
    path = os.path.join(layout, "blobs", "sha256", digest[7:])
    if not os.path.exists(path):
        fail(f"blob {digest} is missing")
    data = open(path, "rb").read()
    if "sha256:" + hashlib.sha256(data).hexdigest() != digest:
        fail(f"blob {digest} does not match its digest")
    return data


def check_spdx(doc, image_name, image_digest, pypi, deb):
    for key in ("spdxVersion", "dataLicense", "SPDXID", "name",
                "documentNamespace", "creationInfo", "packages",
                "relationships"):
        if key not in doc:
            fail(f"SPDX document lacks {key}")
    if doc["spdxVersion"] != "SPDX-2.3":
        fail(f"spdxVersion {doc['spdxVersion']}")
    if doc["dataLicense"] != "CC0-1.0" or doc["SPDXID"] != "SPDXRef-DOCUMENT":
        fail("dataLicense/SPDXID")
    if not re.fullmatch(r"[a-z][a-z0-9+.-]*:\S+", doc["documentNamespace"]):
        fail(f"documentNamespace {doc['documentNamespace']!r} is not a URI")
    if image_digest not in doc["documentNamespace"]:
        fail("the namespace does not name the image digest")
    ci = doc["creationInfo"]
    if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", ci.get("created", "")):
        fail(f"creationInfo.created {ci.get('created')!r}")
    if not ci.get("creators") or not all(
            re.fullmatch(r"(Tool|Organization|Person): .+", c)
            for c in ci["creators"]):
        fail(f"creators {ci.get('creators')!r}")
    ids = {"SPDXRef-DOCUMENT"}
    by_name = {}
    for p in doc["packages"]:
        for key in ("name", "SPDXID", "downloadLocation"):
            if not p.get(key):
                fail(f"package {p.get('name')!r} lacks {key}")
        if not re.fullmatch(r"SPDXRef-[A-Za-z0-9.-]+", p["SPDXID"]):
            fail(f"SPDXID {p['SPDXID']!r}")
        if p["SPDXID"] in ids:
            fail(f"SPDXID {p['SPDXID']} twice")
        if p.get("filesAnalyzed", True):
            fail(f"{p['name']}: filesAnalyzed must be false without files")
        ids.add(p["SPDXID"])
        by_name.setdefault(p["name"], []).append(p)
    for r in doc["relationships"]:
        for key in ("spdxElementId", "relatedSpdxElement"):
            if r.get(key) not in ids:
                fail(f"relationship to unknown element {r.get(key)!r}")
    image = [p for p in doc["packages"] if p["SPDXID"] == "SPDXRef-image"]
    if len(image) != 1 or image[0]["name"] != image_name or \
            image[0].get("versionInfo") != image_digest:
        fail(f"the image package is {image!r}, want {image_name}@{image_digest}")

    def purl(p):
        refs = [r["referenceLocator"] for r in p.get("externalRefs", [])
                if r.get("referenceType") == "purl"]
        return refs[0] if refs else ""

    sums = {}
    for name in pypi:
        ps = [p for p in by_name.get(name, [])
              if purl(p).startswith(f"pkg:pypi/{name}@")]
        if len(ps) != 1:
            fail(f"no pypi package {name} (have {sorted(by_name)[:50]})")
        cs = ps[0].get("checksums", [])
        if not cs or cs[0]["algorithm"] != "SHA256" or \
                not re.fullmatch(r"[0-9a-f]{64}", cs[0]["checksumValue"]):
            fail(f"{name}: no SHA256 checksum")
        sums[ps[0]["packageFileName"]] = cs[0]["checksumValue"]
    for name in deb:
        ps = [p for p in by_name.get(name, [])
              if purl(p).startswith(f"pkg:deb/")]
        if len(ps) != 1 or not re.fullmatch(
                rf"pkg:deb/debian/{re.escape(name)}@[^?]+\?arch=[a-z0-9]+&distro=debian-\d+",
                purl(ps[0])) or not ps[0].get("versionInfo"):
            fail(f"no deb package {name}: {ps!r}")
    return sums


def check_provenance(st, image_digest, builder, wheel_sums):
    if st.get("_type") != "https://in-toto.io/Statement/v1":
        fail(f"_type {st.get('_type')!r}")
    if st.get("predicateType") != "https://slsa.dev/provenance/v1":
        fail(f"predicateType {st.get('predicateType')!r}")
    if [s["digest"]["sha256"] for s in st["subject"]] != [image_digest[7:]]:
        fail(f"subject {st['subject']!r}")
    pred = st["predicate"]
    if not pred["buildDefinition"].get("buildType"):
        fail("no buildType")
    got = pred["runDetails"]["builder"]["id"]
    if builder and got != builder:
        fail(f"builder {got!r}, want {builder!r}")
    deps = {d["name"]: d["digest"] for d in
            pred["buildDefinition"]["resolvedDependencies"]}
    for f, s in wheel_sums.items():
        if deps.get(f, {}).get("sha256") != s:
            fail(f"provenance lacks {f} with sha256 {s}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("layout")
    ap.add_argument("ref")
    ap.add_argument("--pypi", action="append", default=[])
    ap.add_argument("--deb", action="append", default=[])
    ap.add_argument("--builder", default="")
    ap.add_argument("--print-digests", action="store_true")
    a = ap.parse_args()
    index = json.load(open(os.path.join(a.layout, "index.json")))
    ref_key = "org.opencontainers.image.ref.name"
    named = [m for m in index["manifests"]
             if m.get("annotations", {}).get(ref_key) == a.ref]
    if len(named) != 1:
        fail(f"{a.ref} names {len(named)} manifests")
    subject = named[0]
    found = {}
    for m in index["manifests"]:
        if ref_key in m.get("annotations", {}) or "artifactType" not in m:
            continue
        man = json.loads(blob(a.layout, m["digest"]))
        if man.get("subject", {}).get("digest") != subject["digest"]:
            continue
        t = m["artifactType"]
        if t in found:
            fail(f"two referrers of type {t}")
        if man.get("artifactType") != t or man["subject"] != {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": subject["digest"], "size": subject["size"]}:
            fail(f"artifact manifest {m['digest']}: {man!r}")
        if man["config"]["mediaType"] != "application/vnd.oci.empty.v1+json" \
                or blob(a.layout, man["config"]["digest"]) != b"{}":
            fail(f"{m['digest']}: config is not the empty descriptor")
        if len(man["layers"]) != 1 or man["layers"][0]["mediaType"] != t:
            fail(f"{m['digest']}: layers {man['layers']!r}")
        found[t] = (m["digest"], json.loads(blob(a.layout, man["layers"][0]["digest"])))
    for t in ("application/spdx+json", "application/vnd.in-toto+json"):
        if t not in found:
            fail(f"{a.ref} has no {t} referrer (has {sorted(found)})")
    name = a.ref.rsplit(":", 1)[0]
    sums = check_spdx(found["application/spdx+json"][1], name,
                      subject["digest"], a.pypi, a.deb)
    check_provenance(found["application/vnd.in-toto+json"][1],
                     subject["digest"], a.builder, sums)
    if a.print_digests:
        print(found["application/spdx+json"][0],
              found["application/vnd.in-toto+json"][0])


if __name__ == "__main__":
    main()
