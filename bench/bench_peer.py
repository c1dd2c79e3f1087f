"""The peer: OCA ``account_credit_control`` 19.0 doing our job on the same data, fed to `odoo shell` by
scripts/bench.sh on its own database (the peer and invoice_followup installed, addons path used only by the
benchmark).

Same generator (bench_data.py) and sizes as bench_reminders.py: BENCH_IDLE invoices not due (the same ones made
through the ORM, then the same SQL copies), BENCH_PEER_DUE (default BENCH_DUE) invoices due today with a stored
invoice PDF, in the same mix (paid ones are reminded by neither). The peer is configured the way a user would for
one e-mail reminder on the due date: a policy on the receivable account with one level (due date + 0 days, e-mail
channel, the module's own e-mail template, invoice details in the mail), set as the company's policy. Timed, end to
end: a credit-control run (``generate_credit_lines``), the lines marked ready (``set_to_ready_lines``) and the
e-mail action (``run_channel_action``: one communication per customer, its e-mail posted from the template, which
attaches the module's summary PDF, rendered per customer). Mails are queued, not sent, as for our cron. Then the
same again on as many new invoices with a copy of the template that attaches no PDF (``peer_no_pdf``): the peer's
engine alone, the PDF left out. Saved as JSON in bench/results/ (bench_table.py prints the comparison)."""

import json
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path('bench').resolve()))
sys.path.insert(0, str(Path('scripts').resolve()))
from bench_data import (  # noqa: E402
    TODAY,
    attach_existing_pdfs,
    clone_invoices,
    log,
    make_invoices,
    reminded,
    setup_company,
)
from report_server import serve_reports  # noqa: E402

env = env  # noqa: F821, PLW0127 - provided by odoo shell
DUE = int(os.environ.get('BENCH_PEER_DUE', os.environ.get('BENCH_DUE', 200)))
IDLE = int(os.environ.get('BENCH_IDLE', 2000))
IDLE_ORM = min(int(os.environ.get('BENCH_IDLE_ORM', 2000)), IDLE)
RESULTS = Path(os.environ.get('BENCH_RESULTS', 'bench/results'))


def setup_policy(company):
    receivable = env['account.account'].search([
        ('company_ids', 'in', company.ids), ('account_type', '=', 'asset_receivable')])
    policy = env['credit.control.policy'].create({
        'name': 'Bench: reminder on the due date',
        'company_id': company.id,
        'account_ids': [(6, 0, receivable.ids)],
        'level_ids': [(0, 0, {
            'name': 'Due date', 'level': 1, 'computation_mode': 'net_days', 'delay_days': 0,
            'channel': 'email', 'mail_show_invoice_detail': True,
            'email_template_id': env.ref('account_credit_control.email_template_credit_control_base').id,
            'custom_text': 'Our records show that the invoices below are due.',
            'custom_mail_text': '<p>Our records show that the invoices below are due.</p>',
        })],
    })
    company.credit_policy_id = policy
    env.cr.commit()
    return policy


def without_summary_pdf(policy):
    """The same policy with a copy of the e-mail template that attaches no PDF: the peer's own engine cost."""
    level = policy.level_ids
    template = level.email_template_id.copy({'report_template_ids': [(5, 0, 0)]})
    level.email_template_id = template
    env.cr.commit()


def run_peer(policy, expected, label='peer'):
    queued_before = env['mail.mail'].search_count([('state', '=', 'outgoing')])
    queries_before = env.cr.sql_log_count
    Run = env['credit.control.run'].with_context(mail_notify_force_send=False)
    started = time.monotonic()
    run = Run.create({'date': TODAY, 'policy_ids': [(6, 0, policy.ids)]})
    run.generate_credit_lines()
    env.cr.commit()
    generated = time.monotonic()
    run.set_to_ready_lines()
    run.run_channel_action()
    env.cr.commit()
    elapsed = time.monotonic() - started
    queries = env.cr.sql_log_count - queries_before
    env.invalidate_all()
    lines = run.line_ids
    sent_lines = lines.filtered(lambda line: line.state in ('queued', 'sent'))
    communications = lines.communication_id
    queued = env['mail.mail'].search_count([('state', '=', 'outgoing')]) - queued_before
    rate = len(sent_lines) / elapsed if elapsed else 0.0
    log(f"{label}: {len(lines)} credit lines ({len(sent_lines)} e-mailed) in {len(communications)} communications, "
        f"{queued} mails queued, in {elapsed:.1f} s (lines generated in {generated - started:.1f} s) "
        f"= {rate:.1f} invoices reminded/s, {len(communications) / elapsed:.2f} e-mails/s")
    if len(sent_lines) != expected:
        log(f"WARNING {label}: expected {expected} invoices reminded, got {len(sent_lines)}")
    return {'reminders': len(sent_lines), 'credit_lines': len(lines), 'communications': len(communications),
            'mails_queued': queued, 'seconds': round(elapsed, 2),
            'seconds_generating_lines': round(generated - started, 2),
            'per_second': round(rate, 1), 'emails_per_second': round(len(communications) / elapsed, 2),
            'queries_per_reminder': round(queries / max(len(sent_lines), 1), 1)}


def main():
    company = setup_company(env)
    idle = make_invoices(env, IDLE_ORM, 60, 'idle')
    clone_invoices(env, idle.filtered(lambda move: move.payment_state == 'not_paid'), IDLE, 'idle')
    with_pdf = make_invoices(env, DUE, 0, 'due')
    attach_existing_pdfs(env, with_pdf)
    policy = setup_policy(company)
    version = env['ir.module.module'].search([('name', '=', 'account_credit_control')]).installed_version
    results = {'date': TODAY.isoformat(), 'module': f'account_credit_control {version}',
               'sizes': {'due': DUE, 'idle': IDLE}, 'peer': run_peer(policy, reminded(DUE))}
    # The same again on as many new invoices, without the summary PDF: how fast the peer is when no PDF is made.
    make_invoices(env, DUE, 0, 'due_no_pdf')
    without_summary_pdf(policy)
    results['peer_no_pdf'] = run_peer(policy, reminded(DUE), 'peer without its summary PDF')
    results['peak_memory_mib'] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"peer-{TODAY.isoformat()}.json"
    out.write_text(json.dumps(results, indent=2))
    log(f"saved {out}")


with serve_reports(env):  # wkhtmltopdf loads the reports' styles from this process, as from a server
    main()
