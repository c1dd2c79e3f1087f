"""Reminder engine benchmark, fed to `odoo shell` by scripts/bench.sh (run `make bench`).

Generates customers and posted invoices around their due dates in the benchmark database (bench_data.py), then
measures:
- reminders per second, end to end (cron run until every due reminder is queued as mail with its PDF), for
  invoices whose PDF already exists (one e-mail per invoice, then consolidated: one per customer, as the peer
  does) and for invoices that need one rendered, with the SQL queries per reminder;
- the floor: Odoo's own ``message_post_with_source`` of the invoice e-mail template, one per invoice, with the same
  stored PDF attached, on the same invoices (what any per-invoice e-mail costs without our engine);
- the idle run: the cron over every invoice when nothing is due;
- the worker's peak memory;
- a cProfile of the cron on BENCH_PROFILE invoices with stored PDFs (saved as .pstats and .txt, top costs printed).
Figures are printed and saved as JSON in bench/results/ (bench_table.py merges them with the peer's). Sizes come
from the environment: BENCH_DUE (default 200), BENCH_RENDER (20), BENCH_IDLE (2000), BENCH_PROFILE (100, 0 = off).
"""

import cProfile
import io
import json
import os
import platform
import pstats
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path('bench').resolve()))
from bench_data import TODAY, attach_existing_pdfs, log, make_invoices, setup_company  # noqa: E402

env = env  # noqa: F821, PLW0127 - provided by odoo shell
DUE = int(os.environ.get('BENCH_DUE', 200))
RENDER = int(os.environ.get('BENCH_RENDER', 20))
IDLE = int(os.environ.get('BENCH_IDLE', 2000))
PROFILE = int(os.environ.get('BENCH_PROFILE', 100))
RESULTS = Path(os.environ.get('BENCH_RESULTS', 'bench/results'))


def outgoing_mails():
    return env['mail.mail'].search_count([('state', '=', 'outgoing')])


def run_cron(label, expected):
    queued_before = outgoing_mails()
    logs_before = env['invoice.followup.log'].search_count([('state', '=', 'sent')])
    queries_before = env.cr.sql_log_count
    started = time.monotonic()
    env['account.move']._cron_send_reminders()
    elapsed = time.monotonic() - started
    queries = env.cr.sql_log_count - queries_before
    env.invalidate_all()
    sent = env['invoice.followup.log'].search_count([('state', '=', 'sent')]) - logs_before
    queued = outgoing_mails() - queued_before
    rate = sent / elapsed if elapsed else 0.0
    log(f"{label}: {sent} reminders ({queued} mails queued) in {elapsed:.1f} s = {rate:.1f}/s, "
        f"{queries / max(sent, 1):.0f} queries per reminder")
    if sent != expected:
        log(f"WARNING {label}: expected {expected} reminders, got {sent}")
    return {'reminders': sent, 'mails_queued': queued, 'seconds': round(elapsed, 2), 'per_second': round(rate, 1),
            'queries_per_reminder': round(queries / max(sent, 1), 1)}


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
    log(f"profile: {count} reminders in {elapsed:.1f} s under cProfile, saved {RESULTS / 'profile-ours.txt'}")
    return {'reminders': count, 'seconds_under_profiler': round(elapsed, 2)}


def main():
    setup_company(env)
    results = {'machine': f"{platform.node()} {os.cpu_count()} cores, Python {platform.python_version()}",
               'date': TODAY.isoformat(),
               'sizes': {'due': DUE, 'render': RENDER, 'idle': IDLE, 'profile': PROFILE}}
    make_invoices(env, IDLE, 60, 'idle')
    started = time.monotonic()
    env['account.move']._cron_send_reminders()
    results['idle_run'] = {'invoices': env['account.move'].search_count([('move_type', '=', 'out_invoice')]),
                           'seconds': round(time.monotonic() - started, 3)}
    log(f"idle run over {results['idle_run']['invoices']} invoices: {results['idle_run']['seconds']} s")

    with_pdf = make_invoices(env, DUE, 0, 'due')
    attach_existing_pdfs(env, with_pdf)
    results['existing_pdf'] = run_cron('existing PDFs', DUE)
    results['floor'] = run_floor(with_pdf)

    # Like the peer, one e-mail per customer: the company's consolidation on, as many new invoices, stored PDFs.
    consolidated = make_invoices(env, DUE, 0, 'consolidated')
    attach_existing_pdfs(env, consolidated)
    env.company.followup_consolidate = True
    env.cr.commit()
    results['consolidated'] = run_cron('existing PDFs, one e-mail per customer', DUE)
    env.company.followup_consolidate = False
    env.cr.commit()

    make_invoices(env, RENDER, 0, 'render')
    results['rendered_pdf'] = run_cron('PDF rendered per invoice', RENDER)

    results['peak_memory_mib'] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    if PROFILE:
        results['profile'] = profile_cron(PROFILE)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"ours-{TODAY.isoformat()}.json"
    out.write_text(json.dumps(results, indent=2))
    log(f"saved {out}")


main()
