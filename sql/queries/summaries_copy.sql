-- Binary COPY into the staging table; {columns} are composed with psycopg.sql.Identifier.
COPY summaries_stage ({columns}) FROM STDIN (FORMAT BINARY)
