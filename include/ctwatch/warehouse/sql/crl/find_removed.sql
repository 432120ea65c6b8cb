-- A serial that a later version of the same partition no longer lists (and does not list with
-- other values), with the certificate's notAfter when ctwatch knows the certificate.
SELECT p.partition_key, p.serial_hex, p.last_this_update, p.removed_this_update,
    after.crl_sha256 AS removed_crl_sha256, min(c.not_after) AS not_after
FROM crl_serial_presence AS p
JOIN crl_versions AS after ON after.version_id = p.removed_in_version_id
JOIN crl_versions AS f ON f.version_id = p.first_version_id
LEFT JOIN certificates AS c ON c.issuer_der = f.issuer_name_der AND c.serial_hex = p.serial_hex
WHERE f.delta_base_crl_number IS NULL
    AND NOT EXISTS (
        SELECT 1 FROM crl_serial_intervals AS later
        WHERE later.partition_key = p.partition_key AND later.serial_hex = p.serial_hex
            AND later.first_version_id = p.removed_in_version_id
    )
GROUP BY ALL
ORDER BY p.partition_key, p.removed_this_update, p.serial_hex;
