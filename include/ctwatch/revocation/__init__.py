"""Revocation evidence from every source, and where they disagree.

`model` is the shape every non-CRL source produces (a stamped snapshot of sightings), `config` says
where each source lives, `disagreements` finds certificates the sources disagree about, `jobs` are
the units of work the DAGs call for those sources, and `crl_jobs` fetch and archive the CRLs of
watched issuers into ctwatch's own CRL archive (ctwatch.warehouse.crl_archive).
"""
