"""Revocation evidence from every source, and where they disagree.

`config` says where each source lives. One module per source's unit of work, each one call of a
DAG task or the command line: `daily_lists` (CCADB, Mozilla's revoked intermediates, OneCRL, the
CRLSet), `ocsp_queries`, `crtsh_searches` and `crtsh_csv`, `bugzilla_bugs`, and `watched_crls`
(fetch and archive the CRLs of watched issuers into ctwatch's own CRL archive,
ctwatch.warehouse.crl_archive); `snapshots` is what they share. `settlement` says what the CA's own
channels show about a certificate, `disagreements` finds certificates the sources disagree about.
"""
