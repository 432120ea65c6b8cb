"""The simulated services, one module each: the CT logs, CRL, OCSP, CCADB (with Mozilla's report),
OneCRL, CRLSet, crt.sh and Bugzilla. Each answers from the world as of the request's moment;
ctwatch.sim.server routes requests to them and applies the faults."""
