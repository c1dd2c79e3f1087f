"""Data generator shared by the benchmark scripts (bench_reminders.py, bench_peer.py), so that our engine, the
floor and the OCA peer work on the same customers and invoices. Imported from an ``odoo shell`` script; every
function takes the shell's ``env``.
"""

import os
import time
from datetime import date, timedelta

from odoo.fields import Command

TODAY = date.today()
PER_CUSTOMER = max(int(os.environ.get('BENCH_PER_CUSTOMER', 5)), 1)


def log(message):
    print(f"[bench] {message}", flush=True)


def setup_company(env):
    company = env.company
    if not env['account.account'].search_count([('company_ids', 'in', company.ids)], limit=1):
        log("installing the generic chart of accounts")
        env['account.chart.template'].try_loading('generic_coa', company, install_demo=False)
    company.write({'followup_automation': True, 'email': 'billing@bench.example'})
    env['ir.config_parameter'].set_param('report.url', 'http://127.0.0.1:9')  # no asset fetching: pure render
    env.cr.commit()
    return company


def make_invoices(env, count, due_in_days, label):
    """``count`` posted invoices, ``BENCH_PER_CUSTOMER`` (5) per customer, due ``due_in_days`` from today.

    Deterministic: the same sizes give the same customers and invoices in every database.
    """
    started = time.monotonic()
    product = env['product.product'].search([('name', '=', 'Bench service')], limit=1) or \
        env['product.product'].create({'name': 'Bench service', 'type': 'service', 'list_price': 100.0,
                                       'taxes_id': [Command.clear()]})
    partners = env['res.partner'].create([
        {'name': f'{label} customer {index}', 'email': f'{label}.{index}@bench.example', 'is_company': True}
        for index in range(max(count // PER_CUSTOMER, 1))
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
    log(f"{label}: {count} invoices for {len(partners)} customers created and posted in "
        f"{time.monotonic() - started:.1f} s")
    return moves


def attach_existing_pdfs(env, moves):
    """Give each invoice a stored PDF, as invoices that were already sent have (one real render, copied), and
    what sending it left on the invoice (core's ``account.move.send._link_invoice_documents``): the PDF as the
    main attachment, the invoice marked sent."""
    sample = moves[:1]
    sample._followup_ensure_pdfs()
    raw = sample.invoice_pdf_report_id.raw
    attachments = env['ir.attachment'].create([{
        'name': f'{move.name.replace("/", "_")}.pdf', 'raw': raw, 'mimetype': 'application/pdf',
        'res_model': 'account.move', 'res_id': move.id, 'res_field': 'invoice_pdf_report_file',
    } for move in moves[1:]])
    if attachments:
        env.cr.execute(
            "UPDATE account_move AS move SET message_main_attachment_id = pdf.id, is_move_sent = TRUE "
            "FROM ir_attachment AS pdf WHERE pdf.id IN %s AND move.id = pdf.res_id", [tuple(attachments.ids)])
    env.cr.commit()
    env.invalidate_all()
