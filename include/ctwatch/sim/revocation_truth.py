"""The ground truth of a world's revocation side: what tests should find, with exact times."""

from __future__ import annotations

from typing import Any

from ctwatch.sim.formats import epoch_ms
from ctwatch.sim.revocations import RevocationWorld, onecrl_record_id
from ctwatch.timeutil import iso_z


def revocation_ground_truth(world: RevocationWorld) -> dict[str, Any]:
    """JSON-ready timelines of every revocation, CRL, OCSP delegate and bug, with exact times."""
    revocations = []
    for rev in world.revocations:
        times = world.crl_versions[rev.scope]
        listed = [t for t in times if rev.on_crl(t)]
        published = rev.published_at
        before = [t for t in times if t < published] if published is not None else []
        last_without = before[-1] if before else None
        parts = world.partitions.get(rev.scope)
        partition = rev.serial % parts.count if parts else None
        revocations.append(
            {
                "cert_id": rev.cert_id,
                "der_sha256": rev.der_sha256,
                "is_ca": rev.is_ca,
                "serial_hex": f"{rev.serial:x}",
                "crl_scope": rev.scope,
                "crl_url": world.crl_url(rev.scope),
                "crl_partition": partition,
                "crl_partition_url": world.crl_url(rev.scope, partition) if partition is not None else None,
                "reason_code": rev.reason_code,
                "revoked_at_claimed": iso_z(rev.revoked_at_claimed),
                "crl_first_listed_at": iso_z(listed[0]) if listed else None,
                "crl_last_listed_at": iso_z(listed[-1]) if listed else None,
                "crl_last_version_without_at": iso_z(last_without) if last_without else None,
                "backdated": last_without is not None and rev.revoked_at_claimed < last_without,
                "removed_at": iso_z(rev.removed_at) if rev.removed_at else None,
                "ocsp_behaviour": rev.ocsp_behaviour,
                "ocsp_revoked_from": iso_z(rev.ocsp_revoked_from) if rev.ocsp_revoked_from else None,
                "ccadb_revoked_from": iso_z(rev.ccadb_revoked_from) if rev.ccadb_revoked_from else None,
                "ccadb_date_of_revocation": rev.ccadb_date_of_revocation.isoformat(),
                "onecrl": None
                if rev.onecrl is None
                else {
                    "id": onecrl_record_id(rev),
                    "created": iso_z(rev.onecrl.created),
                    "last_modified_ms": epoch_ms(rev.onecrl.last_modified),
                    "form": rev.onecrl.form,
                },
                "crlset_from": iso_z(rev.crlset_from) if rev.crlset_from else None,
            }
        )
    return {
        "revocations": revocations,
        "crl_versions": {
            scope: {
                "url": world.crl_url(scope),
                "this_updates": [iso_z(t) for t in times],
                "partition_urls": [world.crl_url(scope, n) for n in range(world.partitions[scope].count)]
                if scope in world.partitions
                else [],
                "undisclosed_partition_urls": [
                    world.crl_url(scope, n) for n in sorted(world.partitions[scope].undisclosed)
                ]
                if scope in world.partitions
                else [],
            }
            for scope, times in world.crl_versions.items()
        },
        "ocsp_delegates": {
            ca_id: {"responder": cert_id, "der_sha256": world.ca_certs[cert_id].der_sha256}
            for ca_id, cert_id in world.ocsp_delegates.items()
        },
        "bugs": [
            {
                "id": bug.id,
                "owner": bug.owner,
                "summary": bug.summary,
                "whiteboard": bug.whiteboard,
                "creation_time": iso_z(bug.creation_time),
                "resolved_at": iso_z(bug.resolved_at) if bug.resolved_at else None,
            }
            for bug in world.bugs
        ],
        "crtsh_result_limit": world.settings.crtsh_result_limit,
    }
