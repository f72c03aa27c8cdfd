#!/usr/bin/env python3
"""The DuckDB reference of the ICB benchmark: reads the same extract CSV files as qofd (every
practice directory under DATA) and runs indicators.sql. Prints one JSON object: the counts per
indicator and the seconds DuckDB took (reading the CSV files included).

usage: duckdb_counts.py DATA CLUSTERS_CSV SQL_FILE [THREADS]
"""
import json
import sys
import time

import duckdb

data, clusters, sql_file = sys.argv[1:4]
threads = int(sys.argv[4]) if len(sys.argv) > 4 else 2
sql = open(sql_file).read()
start = time.perf_counter()
con = duckdb.connect()
con.execute(f"SET threads = {threads}")
con.execute(f"""
    CREATE TABLE patients AS SELECT patient_id, date_of_birth, sex, date_of_death
    FROM read_csv('{data}/*/patients.csv', header = true, auto_detect = false,
        columns = {{'patient_id': 'VARCHAR', 'nhs_number': 'VARCHAR', 'date_of_birth': 'DATE', 'sex': 'VARCHAR',
                    'date_of_death': 'DATE', 'lsoa': 'VARCHAR', 'ethnicity': 'VARCHAR'}})""")
con.execute(f"""
    CREATE TABLE registrations AS SELECT * FROM read_csv('{data}/*/registrations.csv', header = true, auto_detect = false,
        columns = {{'patient_id': 'VARCHAR', 'start_date': 'DATE', 'end_date': 'DATE'}})""")
con.execute(f"""
    CREATE TABLE events AS SELECT patient_id, date, code, value, value2 FROM read_csv('{data}/*/events.csv', header = true, auto_detect = false,
        columns = {{'patient_id': 'VARCHAR', 'date': 'DATE', 'code': 'BIGINT', 'value': 'DOUBLE', 'value2': 'DOUBLE', 'unit': 'VARCHAR'}})""")
con.execute(f"""
    CREATE TABLE clusters AS SELECT * FROM read_csv('{clusters}', header = true, auto_detect = false,
        columns = {{'cluster': 'VARCHAR', 'code': 'BIGINT'}})""")
loaded = time.perf_counter()
rows = con.execute(sql).fetchall()
done = time.perf_counter()
print(json.dumps({
    "load_seconds": loaded - start,
    "query_seconds": done - loaded,
    "seconds": done - start,
    "counts": {r[0]: {"register": int(r[1]), "denominator": int(r[2]), "numerator": int(r[3])} for r in rows},
}))
