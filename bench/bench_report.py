# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Benchmark of the collections analysis (``invoice.followup.report``): the pivot's grouped reads over N invoices.

Run it in an Odoo shell on a throw-away database where invoice_followup is installed (never on real data: it
writes rows straight into the tables)::

    scripts/odoo.sh -d if_bench -i invoice_followup --stop-after-init
    BENCH_INVOICES=100000 scripts/odoo.sh shell -d if_bench --no-http < bench/bench_report.py

How the data is made (SQL-level bulk insert, on purpose): a few real invoices and payments are created with the
ORM, then each of the N invoices is a copy, made by ``INSERT ... SELECT generate_series``, of a template invoice
(the move and its receivable line only) with its own name, customer, salesperson, dates and amount; 60 % are
matched to a real payment line through an ``account_partial_reconcile`` row and 40 % get one or two reminder logs.
Those rows carry exactly what the report reads, but they are not balanced journal entries: the ledger figures
(DSO, CEI) of this database are meaningless; only the timings are. The ORM would take hours for 100,000 invoices
on our 2-core machine; this takes about 20 seconds.

The script prints the generation time and, for each grouped read the pivot and graph views do, the best of five
runs (warm cache), then commits (run it again to measure without regenerating: set BENCH_INVOICES=0).
"""
import os
import time

from odoo import fields
from odoo.fields import Command
from odoo.tools import SQL

N = int(os.environ.get('BENCH_INVOICES', '100000'))
env = env  # noqa: F821, PLW0127 (given by odoo shell)
cr = env.cr


def columns(table, skip):
    cr.execute(SQL(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
        table))
    return [name for (name,) in cr.fetchall() if name not in skip]


def generate(count):
    company = env.company
    partners = env['res.partner'].create([{'name': f'Bench customer {i}', 'email': f'c{i}@bench.example'}
                                          for i in range(500)])
    users = env['res.users'].search([('share', '=', False)], limit=5)
    product = env['product.product'].create({'name': 'Bench service', 'type': 'service'})
    template = env['account.move'].create({
        'move_type': 'out_invoice', 'partner_id': partners[0].id, 'invoice_date': '2025-01-01',
        'invoice_date_due': '2025-01-31',
        'invoice_line_ids': [Command.create({'product_id': product.id, 'price_unit': 100.0, 'tax_ids': []})],
    })
    template.action_post()
    pay_source = env['account.move'].create({
        'move_type': 'out_invoice', 'partner_id': partners[0].id, 'invoice_date': '2025-01-01',
        'invoice_line_ids': [Command.create({'product_id': product.id, 'price_unit': 100.0, 'tax_ids': []})],
    })
    pay_source.action_post()
    payment = env['account.payment.register'].with_context(
        active_model='account.move', active_ids=pay_source.ids).create({})._create_payments()
    credit_line = payment.move_id.line_ids.filtered(lambda line: line.credit and line.account_id.reconcile)
    template_line = template.line_ids.filtered(lambda line: line.display_type == 'payment_term')
    step = env['invoice.followup.step'].search([('company_id', 'in', (company.id, False))], limit=1)
    env.flush_all()

    move_cols = columns('account_move', {'id', 'name', 'partner_id', 'commercial_partner_id', 'invoice_user_id',
                                         'invoice_date', 'invoice_date_due', 'date', 'amount_total_signed',
                                         'amount_residual_signed', 'payment_state', 'sequence_number'})
    cr.execute(SQL(
        """
        CREATE TEMP TABLE bench_new AS
        SELECT i, (ARRAY[%(partners)s])[1 + i %% %(np)s] AS partner_id,
               (ARRAY[%(users)s])[1 + i %% %(nu)s] AS user_id,
               DATE '2024-01-01' + (i %% 700) AS invoice_date,
               100 + (i %% 37) * 25 AS amount,
               i %% 10 < 6 AS paid
          FROM generate_series(1, %(count)s) i;
        INSERT INTO account_move (name, partner_id, commercial_partner_id, invoice_user_id, invoice_date,
                                  invoice_date_due, date, amount_total_signed, amount_residual_signed,
                                  payment_state, sequence_number, %(cols)s)
        SELECT 'BENCH/' || n.i, n.partner_id, n.partner_id, n.user_id, n.invoice_date, n.invoice_date + 30,
               n.invoice_date, n.amount, CASE WHEN n.paid THEN 0 ELSE n.amount END,
               CASE WHEN n.paid THEN 'paid' ELSE 'not_paid' END, 100000 + n.i, %(tcols)s
          FROM bench_new n, account_move t
         WHERE t.id = %(template)s
        """,
        partners=SQL(', '.join(str(pid) for pid in partners.ids)), np=len(partners),
        users=SQL(', '.join(str(uid) for uid in users.ids)), nu=len(users), count=count,
        cols=SQL(', '.join(move_cols)), tcols=SQL(', '.join(f't.{col}' for col in move_cols)),
        template=template.id,
    ))
    line_cols = columns('account_move_line', {'id', 'move_id', 'partner_id', 'date', 'date_maturity', 'balance',
                                              'debit', 'amount_residual', 'amount_currency', 'move_name'})
    cr.execute(SQL(
        """
        INSERT INTO account_move_line (move_id, partner_id, date, date_maturity, balance, debit, amount_residual,
                                       amount_currency, move_name, %(cols)s)
        SELECT m.id, m.partner_id, m.date, m.invoice_date_due, m.amount_total_signed, m.amount_total_signed,
               m.amount_residual_signed, m.amount_total_signed, m.name, %(tcols)s
          FROM account_move m, account_move_line t
         WHERE m.name LIKE 'BENCH/%%' AND t.id = %(line)s
        """,
        cols=SQL(', '.join(line_cols)), tcols=SQL(', '.join(f't.{col}' for col in line_cols)),
        line=template_line.id,
    ))
    partial_cols = columns('account_partial_reconcile', {'id', 'debit_move_id', 'credit_move_id', 'max_date',
                                                         'amount', 'debit_amount_currency',
                                                         'credit_amount_currency'})
    template_partial = payment.move_id.line_ids.matched_debit_ids[:1] or env['account.partial.reconcile'].search(
        [('credit_move_id', '=', credit_line.id)], limit=1)
    cr.execute(SQL(
        """
        INSERT INTO account_partial_reconcile (debit_move_id, credit_move_id, max_date, amount,
                                               debit_amount_currency, credit_amount_currency, %(cols)s)
        SELECT l.id, %(credit)s, m.invoice_date + (m.sequence_number %% 60), l.balance, l.balance, l.balance,
               %(tcols)s
          FROM account_move m
          JOIN account_move_line l ON l.move_id = m.id
          JOIN account_partial_reconcile t ON t.id = %(partial)s
         WHERE m.name LIKE 'BENCH/%%' AND m.payment_state = 'paid'
        """,
        cols=SQL(', '.join(partial_cols)), tcols=SQL(', '.join(f't.{col}' for col in partial_cols)),
        credit=credit_line.id, partial=template_partial.id,
    ))
    cr.execute(SQL(
        """
        INSERT INTO invoice_followup_log (move_id, company_id, partner_id, step_id, policy_id, cycle_key, date,
                                          state, channel, currency_id, amount_due, is_test, create_uid,
                                          create_date, write_uid, write_date)
        SELECT m.id, m.company_id, m.partner_id, %(step)s, s.policy_id, m.invoice_date_due + k,
               m.invoice_date_due + k, 'sent', 'email', m.currency_id, m.amount_total_signed, FALSE, 1,
               now(), 1, now()
          FROM account_move m
          JOIN invoice_followup_step s ON s.id = %(step)s
          CROSS JOIN generate_series(0, 1) k
         WHERE m.name LIKE 'BENCH/%%' AND m.sequence_number %% 5 < 2 AND (k = 0 OR m.sequence_number %% 2 = 0)
        """,
        step=step.id,
    ))
    cr.execute("ANALYZE account_move; ANALYZE account_move_line; ANALYZE account_partial_reconcile; "
               "ANALYZE invoice_followup_log")


def best_of(label, func, runs=5):
    timings = []
    for _run in range(runs):
        env.invalidate_all()
        start = time.perf_counter()
        result = func()
        timings.append(time.perf_counter() - start)
    print(f"{label:<60} best {min(timings):6.3f}s  median {sorted(timings)[runs // 2]:6.3f}s  groups {len(result)}")


if N:
    start = time.perf_counter()
    generate(N)
    cr.commit()
    print(f"generated {N} invoices in {time.perf_counter() - start:.1f}s")

Report = env['invoice.followup.report']
print(f"rows in the report: {Report.search_count([])}")
measures = ['__count', 'amount:sum', 'residual:sum', 'days_to_pay:avg', 'days_late:avg']
best_of("pivot: invoice month x paid on time (default view)",
        lambda: Report._read_group([], ['invoice_date:month', 'is_paid_on_time'], measures))
best_of("pivot: customer (500 groups)", lambda: Report._read_group([], ['partner_id'], measures))
best_of("pivot: aging bucket x salesperson",
        lambda: Report._read_group([('is_paid', '=', False)], ['aging_bucket', 'user_id'], ['residual:sum']))
best_of("pivot: last reminder step x policy",
        lambda: Report._read_group([], ['last_step_id', 'policy_id'], ['__count', 'days_after_reminder:avg']))
best_of("pivot: one year filter, month",
        lambda: Report._read_group([('invoice_date', '>=', '2025-01-01'), ('invoice_date', '<=', '2025-12-31')],
                                   ['invoice_date:month'], measures))
best_of("web: formatted_read_group month (what the pivot RPC runs)",
        lambda: Report.formatted_read_group([], ['invoice_date:month'], measures))
Dashboard = env['invoice.followup.dashboard']
best_of("dashboard: payment stats of a year",
        lambda: Dashboard._payment_stats(env.company, fields.Date.to_date('2025-01-01'),
                                         fields.Date.to_date('2025-12-31')), runs=3)
cr.execute("SHOW jit")
print(f"PostgreSQL jit: {cr.fetchone()[0]}")

