"""Reminder engine benchmark, fed to `odoo shell` by scripts/bench.sh (run `make bench`).

Generates customers and posted invoices around their due dates in the benchmark database, then measures:
- reminders per second, end to end (cron run until every due reminder is queued as mail with its PDF), for
  invoices whose PDF already exists and for invoices that need one rendered;
- the idle run: the cron over every invoice when nothing is due;
- the worker's peak memory.
Figures are printed as a table and saved as JSON in bench/results/. Sizes come from the environment:
BENCH_DUE (default 2000), BENCH_RENDER (default 20), BENCH_IDLE (default 2000).
"""

import json
import os
import platform
import resource
import time
from datetime import date, timedelta
from pathlib import Path

from odoo.fields import Command

env = env  # noqa: F821, PLW0127 - provided by odoo shell
DUE = int(os.environ.get('BENCH_DUE', 2000))
RENDER = int(os.environ.get('BENCH_RENDER', 20))
IDLE = int(os.environ.get('BENCH_IDLE', 2000))
TODAY = date.today()
RESULTS = Path(os.environ.get('BENCH_RESULTS', 'bench/results'))


def log(message):
    print(f"[bench] {message}", flush=True)


def setup_company():
    company = env.company
    if not env['account.account'].search_count([('company_ids', 'in', company.ids)], limit=1):
        log("installing the generic chart of accounts")
        env['account.chart.template'].try_loading('generic_coa', company, install_demo=False)
    company.write({'followup_automation': True, 'email': 'billing@bench.example'})
    env['ir.config_parameter'].set_param('report.url', 'http://127.0.0.1:9')  # no asset fetching: pure render
    env.cr.commit()
    return company


def make_invoices(count, due_in_days, label):
    """``count`` posted invoices for ``count // 10`` customers, due ``due_in_days`` from today."""
    started = time.monotonic()
    product = env['product.product'].search([('name', '=', 'Bench service')], limit=1) or \
        env['product.product'].create({'name': 'Bench service', 'type': 'service', 'list_price': 100.0,
                                       'taxes_id': [Command.clear()]})
    partners = env['res.partner'].create([
        {'name': f'{label} customer {index}', 'email': f'{label}.{index}@bench.example', 'is_company': True}
        for index in range(max(count // 10, 1))
    ])
    moves = env['account.move']
    for start in range(0, count, 500):
        batch = env['account.move'].create([{
            'move_type': 'out_invoice',
            'partner_id': partners[index % len(partners)].id,
            'invoice_date': TODAY - timedelta(days=30),
            'invoice_date_due': TODAY + timedelta(days=due_in_days),
            'invoice_payment_term_id': False,
            'invoice_line_ids': [Command.create({
                'product_id': product.id, 'quantity': 1 + index % 7, 'price_unit': 100.0,
                'tax_ids': [Command.clear()],
            })],
        } for index in range(start, min(start + 500, count))])
        batch.action_post()
        env.cr.commit()
        moves |= batch
    log(f"{label}: {count} invoices created and posted in {time.monotonic() - started:.1f} s")
    return moves


def attach_existing_pdfs(moves):
    """Give each invoice a stored PDF, as invoices that were already sent have (one real render, copied)."""
    sample = moves[:1]
    sample._followup_ensure_pdfs()
    raw = sample.invoice_pdf_report_id.raw
    env['ir.attachment'].create([{
        'name': f'{move.name.replace("/", "_")}.pdf', 'raw': raw, 'mimetype': 'application/pdf',
        'res_model': 'account.move', 'res_id': move.id, 'res_field': 'invoice_pdf_report_file',
    } for move in moves[1:]])
    env.cr.commit()


def run_cron(label, expected):
    queued_before = env['mail.mail'].search_count([('state', '=', 'outgoing')])
    logs_before = env['invoice.followup.log'].search_count([('state', '=', 'sent')])
    started = time.monotonic()
    env['account.move']._cron_send_reminders()
    elapsed = time.monotonic() - started
    env.invalidate_all()
    sent = env['invoice.followup.log'].search_count([('state', '=', 'sent')]) - logs_before
    queued = env['mail.mail'].search_count([('state', '=', 'outgoing')]) - queued_before
    rate = sent / elapsed if elapsed else 0.0
    log(f"{label}: {sent} reminders ({queued} mails queued) in {elapsed:.1f} s = {rate:.1f}/s")
    if sent != expected:
        log(f"WARNING {label}: expected {expected} reminders, got {sent}")
    return {'reminders': sent, 'mails_queued': queued, 'seconds': round(elapsed, 2), 'per_second': round(rate, 1)}


def main():
    setup_company()
    results = {'machine': f"{platform.node()} {os.cpu_count()} cores, Python {platform.python_version()}",
               'date': TODAY.isoformat(), 'sizes': {'due': DUE, 'render': RENDER, 'idle': IDLE}}
    idle_moves = make_invoices(IDLE, 60, 'idle')
    started = time.monotonic()
    env['account.move']._cron_send_reminders()
    results['idle_run'] = {'invoices': env['account.move'].search_count([('move_type', '=', 'out_invoice')]),
                           'seconds': round(time.monotonic() - started, 3)}
    log(f"idle run over {results['idle_run']['invoices']} invoices: {results['idle_run']['seconds']} s")

    with_pdf = make_invoices(DUE, 0, 'due')
    attach_existing_pdfs(with_pdf)
    results['existing_pdf'] = run_cron('existing PDFs', DUE)

    to_render = make_invoices(RENDER, 0, 'render')
    results['rendered_pdf'] = run_cron('PDF rendered per invoice', RENDER)

    results['peak_memory_mib'] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"reminders-{TODAY.isoformat()}.json"
    out.write_text(json.dumps(results, indent=2))
    print()
    print("| measure | size | seconds | per second |")
    print("|---|---|---|---|")
    idle = results['idle_run']
    print(f"| idle run (nothing due) | {idle['invoices']} invoices | {idle['seconds']} | |")
    for key, label in (('existing_pdf', 'reminders, stored PDF'), ('rendered_pdf', 'reminders, PDF rendered')):
        row = results[key]
        print(f"| {label} | {row['reminders']} | {row['seconds']} | {row['per_second']} |")
    print(f"| worker peak memory | | | {results['peak_memory_mib']} MiB |")
    print(f"\nsaved {out}")
    del idle_moves, to_render


main()
