"""The vocabulary of evidence, below everything else: what sources produce and the warehouse stores
(snapshots of sightings, record errors, CRL fetches, CCADB records, Bugzilla bugs), and the RFC 5280
CRLReason codes. It imports nothing of ctwatch."""
