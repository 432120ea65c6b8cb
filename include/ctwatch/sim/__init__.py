"""The simulated Web PKI on 127.0.0.1: CA hierarchy, CT logs (RFC 6962 and static-ct-api), and the
revocation services (CRL, OCSP, CCADB, OneCRL, CRLSet, crt.sh, Bugzilla; see revocations.py and
services/).

One TOML scenario file describes the world (format: scenario.md beside this file; examples in
scenarios/). `World.load(scenario)` generates it deterministically by seed and caches it under
`$CTWATCH_DATA_DIR/sim-cache`; `SimulatorRunning(scenario)` serves it; `world.ground_truth()` says
what tests should find. The as-of time of a request travels in the `X-Ctwatch-As-Of` header.
"""
