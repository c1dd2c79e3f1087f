"""Data generator shared by the benchmark scripts (bench_reminders.py, bench_peer.py), so that our engine, the
floor and the OCA peer work on the same customers and invoices. Imported from an ``odoo shell`` script; every
function takes the shell's ``env``.

Invoices come in a fixed mix, by their index modulo 10: 0 in a foreign currency (EUR at a rate of today), 1 in two
installments (the first due on the given day, the second 30 days later), 2 partly paid (40%), 3 paid in full (so
never reminded), the others plain. Large numbers of invoices that are not due (the idle run) are made by copying
ORM-made invoices in SQL (``clone_invoices``).
"""

import os
import time
from datetime import date, timedelta

from odoo.fields import Command

TODAY = date.today()
PER_CUSTOMER = max(int(os.environ.get('BENCH_PER_CUSTOMER', 5)), 1)
FOREIGN, INSTALLMENTS, PARTIAL, PAID = 0, 1, 2, 3  # index % 10


def log(message):
    print(f"[bench] {message}", flush=True)


def reminded(count):
    """How many of ``count`` generated invoices are still open, so reminded: all but the paid ones."""
    return count - sum(1 for index in range(count) if index % 10 == PAID)


def setup_company(env):
    company = env.company
    if not env['account.account'].search_count([('company_ids', 'in', company.ids)], limit=1):
        log("installing the generic chart of accounts")
        env['account.chart.template'].try_loading('generic_coa', company, install_demo=False)
    company.write({'followup_automation': True, 'email': 'billing@bench.example'})
    euro = env.ref('base.EUR')
    if euro != company.currency_id:
        euro.active = True
        env['res.currency.rate'].search([('currency_id', '=', euro.id), ('name', '=', TODAY)]).unlink()
        env['res.currency.rate'].create({'currency_id': euro.id, 'name': TODAY, 'rate': 0.9,
                                         'company_id': company.id})
    env.cr.commit()
    return company


def _installment_term(env):
    term = env['account.payment.term'].search([('name', '=', 'Bench 50/50')], limit=1)
    return term or env['account.payment.term'].create({
        'name': 'Bench 50/50',
        'line_ids': [Command.create({'value': 'percent', 'value_amount': 50.0, 'nb_days': 30}),
                     Command.create({'value': 'percent', 'value_amount': 50.0, 'nb_days': 60})],
    })


def make_invoices(env, count, due_in_days, label):
    """``count`` posted invoices in the mix above, ``BENCH_PER_CUSTOMER`` (5) per customer, due ``due_in_days``
    from today (the first installment for those in installments), with their payments.

    Deterministic: the same sizes give the same customers and invoices in every database.
    """
    started = time.monotonic()
    product = env['product.product'].search([('name', '=', 'Bench service')], limit=1) or \
        env['product.product'].create({'name': 'Bench service', 'type': 'service', 'list_price': 100.0,
                                       'taxes_id': [Command.clear()]})
    euro, term = env.ref('base.EUR'), _installment_term(env)
    partners = env['res.partner'].create([
        {'name': f'{label} customer {index}', 'email': f'{label}.{index}@bench.example', 'is_company': True}
        for index in range(max(count // PER_CUSTOMER, 1))
    ])
    due = TODAY + timedelta(days=due_in_days)

    def values(index):
        vals = {
            'move_type': 'out_invoice',
            'partner_id': partners[index % len(partners)].id,
            'invoice_date': due - timedelta(days=30),
            'invoice_date_due': due,
            'invoice_payment_term_id': False,
            'invoice_line_ids': [Command.create({
                'product_id': product.id, 'quantity': 1 + index % 7, 'price_unit': 100.0,
                'tax_ids': [Command.clear()],
            })],
        }
        if index % 10 == FOREIGN and euro != env.company.currency_id:
            vals['currency_id'] = euro.id
        elif index % 10 == INSTALLMENTS:
            vals.update(invoice_payment_term_id=term.id, invoice_date_due=False)
        return vals

    moves = env['account.move']
    for start in range(0, count, 500):
        batch = env['account.move'].create([values(index) for index in range(start, min(start + 500, count))])
        batch.action_post()
        env.cr.commit()
        moves |= batch
    _pay(env, moves)
    analyze(env)
    log(f"{label}: {count} invoices for {len(partners)} customers created, posted and paid where planned in "
        f"{time.monotonic() - started:.1f} s")
    return moves


ANALYZED_TABLES = ('account_move', 'account_move_line', 'account_partial_reconcile', 'res_partner', 'mail_message',
                   'mail_mail', 'mail_notification', 'ir_attachment', 'invoice_followup_log')


def analyze(env):
    """Refresh PostgreSQL's statistics of the tables the benchmark just filled, as autovacuum keeps them on a live
    database: otherwise a run measures the query planner's guesses on tables that grew tenfold a second ago (and
    the next run, after autovacuum caught up, does not). The same for ours, the floor and the peer."""
    for table in ANALYZED_TABLES:
        env.cr.execute(f'ANALYZE {table}')  # noqa: S608 - table names from the constant above
    env.cr.commit()


def _pay(env, moves):
    """Pay the invoices of index 3 in full and those of index 2 for 40%: customer payments created and posted
    together, each reconciled with its invoice in one reconciliation plan (what the payment wizard does for one)."""
    to_pay = [(move, 1.0 if index % 10 == PAID else 0.4) for index, move in enumerate(moves)
              if index % 10 in (PAID, PARTIAL)]
    journal = env['account.journal'].search([('type', '=', 'bank'), ('company_id', '=', env.company.id)], limit=1)
    for start in range(0, len(to_pay), 500):
        chunk = to_pay[start:start + 500]
        payments = env['account.payment'].create([{
            'payment_type': 'inbound', 'partner_type': 'customer', 'partner_id': move.commercial_partner_id.id,
            'amount': move.currency_id.round(move.amount_total * share), 'currency_id': move.currency_id.id,
            'journal_id': journal.id, 'date': TODAY, 'memo': move.name,
        } for move, share in chunk])
        payments.action_post()
        env['account.move.line']._reconcile_plan([
            (payment.move_id.line_ids | move.line_ids).filtered(
                lambda line: line.account_id.account_type == 'asset_receivable' and not line.reconciled)
            for payment, (move, _share) in zip(payments, chunk, strict=True)
        ])
        env.cr.commit()


def attach_existing_pdfs(env, moves):
    """Give each invoice a stored PDF, as invoices that were already sent have (one real render, copied), and
    what sending it left on the invoice (core's ``account.move.send._link_invoice_documents``): the PDF as the
    main attachment, the invoice marked sent."""
    sample = moves[:1]
    sample._followup_ensure_pdfs()
    raw = sample.invoice_pdf_report_id.raw
    attachments = env['ir.attachment']
    for start in range(1, len(moves), 1000):
        attachments = env['ir.attachment'].create([{
            'name': f'{move.name.replace("/", "_")}.pdf', 'raw': raw, 'mimetype': 'application/pdf',
            'res_model': 'account.move', 'res_id': move.id, 'res_field': 'invoice_pdf_report_file',
        } for move in moves[start:start + 1000]])
        env.cr.execute(
            "UPDATE account_move AS move SET message_main_attachment_id = pdf.id, is_move_sent = TRUE "
            "FROM ir_attachment AS pdf WHERE pdf.id IN %s AND move.id = pdf.res_id", [tuple(attachments.ids)])
        env.cr.commit()
        env.invalidate_all()


def _columns(env, table, skip):
    env.cr.execute("SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                   "AND column_name NOT IN %s ORDER BY ordinal_position", [table, tuple(skip)])
    return [row[0] for row in env.cr.fetchall()]


def clone_invoices(env, sources, total, label):
    """Bring the invoices up to ``total`` by copying the open, not yet due ``sources`` (headers and lines) in SQL,
    under new ids and names (in a sequence of their own): what the idle run reads is there, at a size the ORM
    would take hours to make here. Copies carry no payment, attachment, message or reminder log; ``ANALYZE``
    follows, as autovacuum would."""
    started = time.monotonic()
    missing = total - env['account.move'].search_count([('move_type', '=', 'out_invoice')])
    if missing <= 0 or not sources:
        return 0
    move_columns = _columns(env, 'account_move', ('id', 'name', 'sequence_prefix', 'sequence_number', 'access_token',
                                                  'message_main_attachment_id'))
    line_columns = _columns(env, 'account_move_line', ('id', 'move_id', 'move_name'))
    source_ids = sources.ids
    prefix = f'{label.upper()}/'  # a sequence of their own: Odoo's next-number look-ups stay on the real ones
    done = 0
    while done < missing:
        size = min(20000, missing - done)
        env.cr.execute("""
            CREATE TEMP TABLE bench_clone ON COMMIT DROP AS
            SELECT nextval('account_move_id_seq') AS new_id, src.id AS source_id
              FROM generate_series(0, %s - 1) AS serial
              JOIN unnest(%s::int[]) WITH ORDINALITY AS src(id, position)
                ON src.position = serial %% %s + 1
        """, [size, source_ids, len(source_ids)])
        env.cr.execute(f"""
            INSERT INTO account_move (id, name, sequence_prefix, sequence_number, {', '.join(move_columns)})
            SELECT clone.new_id, %s || clone.new_id, %s, clone.new_id, {', '.join(f'move.{c}' for c in move_columns)}
              FROM bench_clone AS clone JOIN account_move AS move ON move.id = clone.source_id
        """, [prefix, prefix])
        env.cr.execute(f"""
            INSERT INTO account_move_line (move_id, move_name, {', '.join(line_columns)})
            SELECT clone.new_id, %s || clone.new_id, {', '.join(f'line.{c}' for c in line_columns)}
              FROM bench_clone AS clone JOIN account_move_line AS line ON line.move_id = clone.source_id
        """, [prefix])
        env.cr.commit()
        done += size
    env.cr.execute("ANALYZE account_move")
    env.cr.execute("ANALYZE account_move_line")
    env.cr.commit()
    env.invalidate_all()
    log(f"{label}: {missing} invoices copied in SQL from {len(source_ids)} in {time.monotonic() - started:.1f} s")
    return missing
