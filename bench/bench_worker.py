"""One delivery worker of the benchmark, fed to `odoo shell` by bench_reminders.py (``run_workers``): once its
registry is loaded it says it is ready, waits for the go signal, then sends the reminder queue with the engine's own
delivery loop (what each delivery cron job runs, batches claimed with FOR UPDATE SKIP LOCKED) and reports its times.
"""

import json
import os
import time
from pathlib import Path

env = env  # noqa: F821, PLW0127 - provided by odoo shell
ready, go, out = (Path(os.environ[name]) for name in ('BENCH_WORKER_READY', 'BENCH_WORKER_GO', 'BENCH_WORKER_OUT'))
Delivery = env['invoice.followup.delivery']
env.cr.commit()
ready.write_text('ready')
while not go.exists():
    time.sleep(0.002)
started, cpu_started = time.time(), time.process_time()
queries_before = env.cr.sql_log_count
Delivery._deliver_queued(int(os.environ.get('BENCH_BATCH', 200)))
env.cr.commit()
out.write_text(json.dumps({'started': started, 'ended': time.time(), 'cpu': time.process_time() - cpu_started,
                           'queries': env.cr.sql_log_count - queries_before}))
