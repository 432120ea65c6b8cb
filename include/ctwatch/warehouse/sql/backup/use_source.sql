-- Unqualified names (schema_migrations, the size check) mean the attached warehouse.
USE warehouse;
