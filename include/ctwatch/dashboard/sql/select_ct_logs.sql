SELECT doc FROM ct_logs;
