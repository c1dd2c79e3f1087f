"""Reminder engine benchmark, fed to `odoo shell` by scripts/bench.sh (run `make bench`).

Generates customers and posted invoices around their due dates in the benchmark database (bench_data.py: a mix
of currencies, installments, partial and full payments), then measures:
- the idle run: the cron when nothing is due, on the invoices made through the ORM, then again once copies in
  SQL bring them to BENCH_IDLE (the run must not grow with the invoices, only with the reminders due);
- reminders per second, end to end (cron run until every due reminder is queued as mail with its PDF), for
  invoices whose PDF already exists (one e-mail per invoice, then consolidated: one per customer, as the peer
  does) and for invoices that need one rendered, with the SQL queries per reminder and the worker's peak memory
  during each run;
- the floor: Odoo's own ``message_post_with_source`` of the invoice e-mail template, one per invoice, with the same
  stored PDF attached, on the same invoices (what any per-invoice e-mail costs without our engine);
- recurring generation (schedules per second) and milestone invoicing latency (bench_billing.py);
- a cProfile of the cron on BENCH_PROFILE invoices with stored PDFs (saved as .pstats and .txt, top costs printed).
Figures are printed and saved as JSON in bench/results/ (bench_table.py merges them with the peer's). Sizes come
from the environment (scripts/bench.sh sets them from its command line): BENCH_DUE (200), BENCH_FLOOR (= due),
BENCH_CONSOLIDATED (= due), BENCH_RENDER (20), BENCH_IDLE (2000), BENCH_IDLE_ORM (invoices of the idle set made
through the ORM, 2000 at most), BENCH_RECURRING (50), BENCH_RECURRING_SENT (5), BENCH_MILESTONES (10),
BENCH_PROFILE (100, 0 = off).
"""

import cProfile
import io
import json
import os
import platform
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path('bench').resolve()))
sys.path.insert(0, str(Path('scripts').resolve()))
from bench_billing import measure_milestones, measure_recurring  # noqa: E402
from bench_data import (  # noqa: E402
    TODAY,
    analyze,
    attach_existing_pdfs,
    clone_invoices,
    log,
    make_invoices,
    reminded,
    setup_company,
)
from report_server import serve_reports  # noqa: E402

env = env  # noqa: F821, PLW0127 - provided by odoo shell
DUE = int(os.environ.get('BENCH_DUE', 200))
FLOOR = int(os.environ.get('BENCH_FLOOR', DUE))
CONSOLIDATED = int(os.environ.get('BENCH_CONSOLIDATED', DUE))
RENDER = int(os.environ.get('BENCH_RENDER', 20))
IDLE = int(os.environ.get('BENCH_IDLE', 2000))
IDLE_ORM = min(int(os.environ.get('BENCH_IDLE_ORM', 2000)), IDLE)
RECURRING = int(os.environ.get('BENCH_RECURRING', 50))
RECURRING_SENT = int(os.environ.get('BENCH_RECURRING_SENT', 5))
MILESTONES = int(os.environ.get('BENCH_MILESTONES', 10))
PROFILE = int(os.environ.get('BENCH_PROFILE', 100))
WORKERS_DUE = int(os.environ.get('BENCH_WORKERS_DUE', 2000))
RESULTS = Path(os.environ.get('BENCH_RESULTS', 'bench/results'))


def outgoing_mails():
    return env['mail.mail'].search_count([('state', '=', 'outgoing')])


def reset_peak_memory():
    """Linux: make the kernel's peak resident size (VmHWM) start again from the current size."""
    Path('/proc/self/clear_refs').write_text('5')


def peak_memory_mib():
    for line in Path('/proc/self/status').read_text().splitlines():
        if line.startswith('VmHWM:'):
            return round(int(line.split()[1]) / 1024, 1)
    return None


def idle_run(label):
    """The cron when nothing is due, three times (the first may read cold pages): each run's seconds."""
    invoices = env['account.move'].search_count([('move_type', '=', 'out_invoice')])
    runs = []
    for _run in range(3):
        started = time.monotonic()
        env['account.move']._cron_send_reminders()
        runs.append(round(time.monotonic() - started, 3))
    log(f"idle run ({label}) over {invoices} invoices: {runs} s")
    return {'invoices': invoices, 'seconds': max(runs), 'runs': runs}


def run_cron(label, expected):
    queued_before = outgoing_mails()
    logs_before = env['invoice.followup.log'].search_count([('state', '=', 'sent')])
    queries_before = env.cr.sql_log_count
    env.invalidate_all()
    reset_peak_memory()
    started = time.monotonic()
    env['account.move']._cron_send_reminders()
    elapsed = time.monotonic() - started
    peak = peak_memory_mib()
    queries = env.cr.sql_log_count - queries_before
    env.invalidate_all()
    sent = env['invoice.followup.log'].search_count([('state', '=', 'sent')]) - logs_before
    queued = outgoing_mails() - queued_before
    rate = sent / elapsed if elapsed else 0.0
    log(f"{label}: {sent} reminders ({queued} mails queued) in {elapsed:.1f} s = {rate:.1f}/s, "
        f"{queries / max(sent, 1):.0f} queries per reminder, peak memory {peak} MiB")
    if sent != expected:
        log(f"WARNING {label}: expected {expected} reminders, got {sent}")
    return {'reminders': sent, 'mails_queued': queued, 'seconds': round(elapsed, 2), 'per_second': round(rate, 1),
            'queries_per_reminder': round(queries / max(sent, 1), 1), 'peak_memory_mib': peak}


def run_floor(moves):
    """Odoo alone: the invoice e-mail template posted on each invoice with its stored PDF, one transaction each."""
    template = env.ref('account.email_template_edi_invoice')
    queued_before = outgoing_mails()
    queries_before = env.cr.sql_log_count
    started = time.monotonic()
    for move in moves.with_context(mail_notify_force_send=False):
        move.message_post_with_source(
            template, subtype_xmlid='mail.mt_comment', message_type='comment',
            attachment_ids=move.invoice_pdf_report_id.ids)
        env.cr.commit()
    elapsed = time.monotonic() - started
    queries = env.cr.sql_log_count - queries_before
    queued = outgoing_mails() - queued_before
    rate = len(moves) / elapsed if elapsed else 0.0
    log(f"floor (message_post_with_source): {len(moves)} e-mails ({queued} mails queued) in {elapsed:.1f} s "
        f"= {rate:.1f}/s, {queries / max(len(moves), 1):.0f} queries per e-mail")
    return {'reminders': len(moves), 'mails_queued': queued, 'seconds': round(elapsed, 2),
            'per_second': round(rate, 1), 'queries_per_reminder': round(queries / max(len(moves), 1), 1)}


def run_workers(workers, count):
    """Delivery on ``workers`` worker processes at once (as Odoo's cron runner gives each delivery job its own
    worker): ``count`` due invoices with stored PDFs are planned and queued first (committed), then each worker, an
    ``odoo shell`` with its own registry and connection, sends the queue; measured from the first worker's start to
    the last one's end."""
    moves = make_invoices(env, count, 0, f'workers-{workers}')
    attach_existing_pdfs(env, moves)
    company = env.company
    env['invoice.followup.queue']._queue_due(company, company._followup_today(), 200)
    env.cr.commit()
    analyze(env)  # the queue just written
    Log = env['invoice.followup.log']
    queued = Log.search([('state', '=', 'queued'), ('move_id', 'in', moves.ids)])
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        go = tmp / 'go'
        processes = []
        for index in range(workers):
            worker_env = {**os.environ, 'BENCH_WORKER_READY': str(tmp / f'ready-{index}'),
                          'BENCH_WORKER_GO': str(go), 'BENCH_WORKER_OUT': str(tmp / f'out-{index}.json')}
            with open('bench/bench_worker.py', 'rb') as script:
                processes.append(subprocess.Popen(
                    ['bash', 'scripts/odoo.sh', 'shell', '-d', env.cr.dbname, '--no-http', '--log-level=warn',
                     f'--logfile={os.environ.get("LOGS", tempfile.gettempdir())}/bench-worker-{index}.log'],
                    stdin=script, env=worker_env, stdout=subprocess.DEVNULL))
        deadline = time.monotonic() + 300
        while not all((tmp / f'ready-{index}').exists() for index in range(workers)):
            if time.monotonic() > deadline or any(process.poll() is not None for process in processes):
                raise RuntimeError("a benchmark worker did not start")
            time.sleep(0.05)
        go.write_text('go')
        for process in processes:
            process.wait(timeout=3600)
        outs = [json.loads((tmp / f'out-{index}.json').read_text()) for index in range(workers)]
    elapsed = max(out['ended'] for out in outs) - min(out['started'] for out in outs)
    env.cr.commit()  # a new snapshot: what the workers committed
    env.invalidate_all()
    sent = Log.search_count([('id', 'in', queued.ids), ('state', '=', 'sent')])
    mails = env['mail.mail'].search_count([('model', '=', 'account.move'), ('res_id', 'in', moves.ids)])
    left = Log.search_count([('id', 'in', queued.ids), ('state', '=', 'queued')])
    queries = sum(out['queries'] for out in outs)
    cpu = sum(out['cpu'] for out in outs)
    rate = sent / elapsed if elapsed else 0.0
    log(f"delivery on {workers} worker(s): {sent} reminders ({mails} mails, {left} left queued) in {elapsed:.1f} s "
        f"= {rate:.1f}/s, {queries / max(sent, 1):.1f} queries per reminder, the workers' own CPU "
        f"{1000 * cpu / max(sent, 1):.1f} ms per reminder; each worker's busy time "
        f"{[round(out['ended'] - out['started'], 1) for out in outs]} s")
    if sent != len(queued) or mails != sent or left:
        log(f"WARNING {workers} workers: {len(queued)} queued, {sent} sent, {mails} mails, {left} left")
    return {'workers': workers, 'reminders': sent, 'mails_queued': mails, 'left_queued': left,
            'seconds': round(elapsed, 2), 'per_second': round(rate, 1),
            'queries_per_reminder': round(queries / max(sent, 1), 1),
            'worker_cpu_ms_per_reminder': round(1000 * cpu / max(sent, 1), 2)}


def profile_cron(count):
    """cProfile of the cron on ``count`` due invoices with stored PDFs; the costs of our code path, cumulative."""
    moves = make_invoices(env, count, 0, 'profile')
    attach_existing_pdfs(env, moves)
    profiler = cProfile.Profile()
    started = time.monotonic()
    profiler.enable()
    env['account.move']._cron_send_reminders()
    profiler.disable()
    elapsed = time.monotonic() - started
    RESULTS.mkdir(parents=True, exist_ok=True)
    profiler.dump_stats(RESULTS / 'profile-ours.pstats')
    report = io.StringIO()
    stats = pstats.Stats(profiler, stream=report).sort_stats('cumulative')
    report.write(f"cron on {count} due invoices with stored PDFs, under cProfile: {elapsed:.1f} s\n")
    report.write("\n== our code (invoice_followup), cumulative ==\n")
    stats.print_stats('invoice_followup', 25)
    report.write("\n== everything, cumulative ==\n")
    stats.print_stats(45)
    report.write("\n== everything, own time ==\n")
    stats.sort_stats('tottime').print_stats(25)
    (RESULTS / 'profile-ours.txt').write_text(report.getvalue())
    log(f"profile: the cron on {count} due invoices in {elapsed:.1f} s under cProfile, "
        f"saved {RESULTS / 'profile-ours.txt'}")
    return {'reminders': count, 'seconds_under_profiler': round(elapsed, 2)}


def main():
    setup_company(env)
    results = {'machine': f"{platform.node()} {os.cpu_count()} cores, Python {platform.python_version()}",
               'date': TODAY.isoformat(),
               'sizes': {'due': DUE, 'floor': FLOOR, 'consolidated': CONSOLIDATED, 'render': RENDER, 'idle': IDLE,
                         'idle_orm': IDLE_ORM, 'recurring': RECURRING, 'recurring_sent': RECURRING_SENT,
                         'milestones': MILESTONES, 'profile': PROFILE}}
    idle = make_invoices(env, IDLE_ORM, 60, 'idle')
    results['idle_run_orm'] = idle_run('invoices made through the ORM')
    clone_invoices(env, idle.filtered(lambda move: move.payment_state == 'not_paid'), IDLE, 'idle')
    results['idle_run'] = idle_run(f'brought to {IDLE} invoices')

    with_pdf = make_invoices(env, DUE, 0, 'due')
    attach_existing_pdfs(env, with_pdf)
    results['existing_pdf'] = run_cron('existing PDFs', reminded(DUE))
    env.invalidate_all()
    results['floor'] = run_floor(with_pdf.filtered(lambda move: move.payment_state != 'paid')[:FLOOR])

    # Like the peer, one e-mail per customer: the company's consolidation on, new invoices, stored PDFs.
    if CONSOLIDATED:
        consolidated = make_invoices(env, CONSOLIDATED, 0, 'consolidated')
        attach_existing_pdfs(env, consolidated)
        env.company.followup_consolidate = True
        env.cr.commit()
        results['consolidated'] = run_cron('existing PDFs, one e-mail per customer', reminded(CONSOLIDATED))
        env.company.followup_consolidate = False
        env.cr.commit()

    if WORKERS_DUE:
        results['workers_1'] = run_workers(1, WORKERS_DUE)
        results['workers_2'] = run_workers(2, WORKERS_DUE)

    make_invoices(env, RENDER, 0, 'render')
    results['rendered_pdf'] = run_cron('PDF rendered per invoice', reminded(RENDER))
    results['peak_memory_mib'] = max(results[key]['peak_memory_mib']
                                     for key in ('existing_pdf', 'consolidated', 'rendered_pdf') if key in results)

    if PROFILE:  # before the recurring and milestone invoices, whose first reminders would need PDFs rendered
        results['profile'] = profile_cron(PROFILE)
    results.update(measure_recurring(env, RECURRING, RECURRING_SENT))
    results['milestones'] = measure_milestones(env, MILESTONES)
    results['process_peak_memory_mib'] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"ours-{TODAY.isoformat()}.json"
    out.write_text(json.dumps(results, indent=2))
    log(f"saved {out}")

with serve_reports(env):  # wkhtmltopdf loads the reports' styles from this process, as from a server
    main()
