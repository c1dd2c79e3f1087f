# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A year of collections history for the demo (no model here): a dozen customers invoiced every month for twelve
months, each paying in its own way, with the reminders they got, so that every figure and chart of the collections
dashboard shows a real number. Called from demo/invoice_followup_history_demo.xml through
``invoice.followup.dashboard._demo_load_history``; everything goes through the ORM, in bulk, and the reminder logs
through ``invoice.followup.log._followup_record`` (the engine's only way of writing them)."""
import random
from collections import defaultdict
from datetime import datetime, time, timedelta

from dateutil.relativedelta import relativedelta

from odoo import fields
from odoo.fields import Command

MONTHS = 12
TERM_DAYS = 30


def _early(rng, months_ago):
    return rng.randint(-12, -4)


def _on_time(rng, months_ago):
    return rng.randint(-2, 0)


def _after_first(rng, months_ago):
    return rng.randint(1, 4)


def _after_second(rng, months_ago):
    return rng.randint(8, 12)


def _late(rng, months_ago):
    return rng.randint(15, 26)


def _improving(rng, months_ago):
    """Paid three weeks late until the reminders started, half a year ago; on time since."""
    return rng.randint(18, 28) if months_ago > 6 else rng.randint(-3, 2)


# name, e-mail, how many days after the due date it pays, hours invoiced a month, what else it does
CUSTOMERS = [
    ("Alder Analytics", "ap@alder-analytics.example", _early, 20, None),
    ("Birchwood Hotels", "accounts@birchwood.example", _on_time, 35, None),
    ("Cobalt Engineering", "invoices@cobalt-eng.example", _early, 45, None),
    ("Driftwood Media", "finance@driftwood.example", _after_first, 15, None),
    ("Ember Robotics", "payables@ember-robotics.example", _after_second, 30, None),
    ("Fjord Logistics", "ap@fjord-logistics.example", _after_second, 25, None),
    ("Granite Legal", "billing@granite-legal.example", _late, 18, None),
    ("Hollow Pine Crafts", "office@hollowpine.example", _on_time, 12, 'dispute'),
    ("Ironbark Retail", "ap@ironbark.example", _after_second, 22, 'broken_promise'),
    ("Juniper Clinics", "finance@juniper-clinics.example", _on_time, 28, 'payment_plan'),
    ("Kestrel Foods", "accounts@kestrel-foods.example", _after_first, 16, 'by_hand'),
    ("Larch Schools", "bursar@larch-schools.example", _improving, 26, None),
]
# The invoice (months ago) each special behaviour is about.
SPECIAL_MONTHS = {'dispute': 2, 'broken_promise': 2, 'payment_plan': 3}


def load_history(env, company, product):
    """Create the history in ``company``; return the customers by name."""
    rng = random.Random(16)
    today = company._followup_today()
    Move = env['account.move'].with_company(company)
    partners = env['res.partner'].create([
        {'name': name, 'email': email, 'is_company': True, 'company_id': False}
        for name, email, _pays, _hours, _special in CUSTOMERS])
    invoice_values, plans = [], []
    for partner, (_name, _email, pays, hours, special) in zip(partners, CUSTOMERS, strict=True):
        for months_ago in range(MONTHS, 0, -1):
            invoice_date = today - relativedelta(months=months_ago) - timedelta(days=rng.randint(0, 6))
            quantity = hours + rng.randint(-4, 6)
            if special and SPECIAL_MONTHS.get(special) == months_ago:
                quantity *= 3 if special == 'payment_plan' else 1
                pay_offset = None  # the special invoice: its story is told below
            else:
                pay_offset = pays(rng, months_ago)
            invoice_values.append({
                'move_type': 'out_invoice',
                'partner_id': partner.id,
                'invoice_date': invoice_date,
                'invoice_payment_term_id': False,
                'invoice_date_due': invoice_date + timedelta(days=TERM_DAYS),
                'invoice_line_ids': [Command.create({
                    'product_id': product.id, 'quantity': quantity, 'price_unit': 100.0, 'tax_ids': [Command.clear()],
                })],
            })
            plans.append((special, pay_offset))
    moves = Move.create(invoice_values)
    moves.sorted(lambda move: (move.invoice_date, move.id)).action_post()

    payments = defaultdict(lambda: env['account.move'])
    reminders = []
    specials = {}
    for move, (special, pay_offset) in zip(moves, plans, strict=True):
        paid_on = move.invoice_date_due + timedelta(days=pay_offset) if pay_offset is not None else None
        if paid_on and paid_on > today:
            paid_on = None  # not paid yet
        until = paid_on or today
        if pay_offset is None:  # the special invoice was reminded until its customer answered
            until = min(today, move.invoice_date_due + timedelta(days=8))
            specials[special] = move
        reminders += [(move, step, special == 'by_hand', paid_on) for step in _email_steps(move)
                      if move.invoice_date_due + timedelta(days=step.offset_days) < until]
        if paid_on:
            payments[paid_on] |= move
    _record_reminders(env, reminders)
    for index, (paid_on, paid) in enumerate(sorted(payments.items())):
        if index % 10 == 0:
            _analyze(env)
        _pay(env, paid, paid_on)
    _tell_the_special_stories(env, specials, today)
    return {partner.name: partner for partner in partners}


def _email_steps(move):
    policy = move.commercial_partner_id.followup_policy_id or move.company_id.followup_policy_id
    return policy.step_ids.filtered(lambda step: step.channel == 'email').sorted('offset_days')


def _record_reminders(env, reminders):
    """The reminders as the engine logs them: those of the scheduled job as its user (OdooBot), those sent by hand
    as the administrator; with when the customer opened them and what they clicked."""
    Log = env['invoice.followup.log']
    users = {False: env['invoice.followup.kpi']._automatic_user(), True: env.ref('base.user_admin')}
    rng = random.Random(15)
    now = fields.Datetime.now()
    for by_hand in (False, True):
        values = []
        for move, step, manual, paid_on in reminders:
            if manual != by_hand:
                continue
            day = move.invoice_date_due + timedelta(days=step.offset_days)
            values.append({
                'move_id': move.id, 'step_id': step.id, 'cycle_key': move.invoice_date_due, 'date': day,
                'state': 'sent', 'currency_id': move.currency_id.id, 'amount_due': move.amount_total,
                'email_to': move.commercial_partner_id.email, **_opens_and_clicks(rng, day, paid_on, now),
            })
        if values:
            Log.with_user(users[by_hand])._followup_record(values)


def _opens_and_clicks(rng, day, paid_on, now):
    """What a customer plausibly did with a reminder e-mailed on ``day``: those who paid within the week mostly opened
    it and followed *Pay now*; the others opened about half of them and seldom clicked (the invoice, a question)."""
    paid_soon = paid_on is not None and 0 <= (paid_on - day).days <= 7
    if rng.random() > (0.9 if paid_soon else 0.5):
        return {}
    opened = datetime.combine(day, time(7)) + timedelta(minutes=rng.randint(30, 36 * 60))
    if opened > now:
        return {}
    values = {'opened_date': opened}
    if rng.random() < (0.7 if paid_soon else 0.15):
        clicked = min(opened + timedelta(minutes=rng.randint(1, 20)), now)
        values.update(clicked_date=clicked, clicked_link='pay' if paid_soon else rng.choice(['view', 'respond']))
    return values


def _analyze(env):
    """Refresh PostgreSQL's statistics of the tables the history fills in this one transaction: with those of the
    empty tables it started from, core's query of an invoice's payments (``_compute_reconciled_payment_ids``,
    joins on OR) is planned as nested loops, and each payment costs more than the one before."""
    env.flush_all()
    env.cr.execute(
        "ANALYZE account_move, account_move_line, account_partial_reconcile, account_payment, invoice_followup_log")


def _pay(env, moves, day, amount=None):
    values = {'payment_date': day, 'group_payment': False}
    if amount:
        values['amount'] = amount
    env['account.payment.register'].with_context(
        active_model='account.move', active_ids=moves.ids).create(values)._create_payments()


def _tell_the_special_stories(env, specials, today):
    Case = env['invoice.followup.case']
    if move := specials.get('dispute'):
        Case._followup_open(
            move, 'dispute', body=env._("The customer disputes invoice %(invoice)s.", invoice=move.name),
            dispute_reason='quality', comment="Two of the twelve framed prints arrived damaged.")
    if move := specials.get('broken_promise'):
        # Promised to pay ten days after the second reminder, and did not: the engine finds the promise broken.
        Case._followup_open(
            move, 'promise', body=env._("The customer promises to pay invoice %(invoice)s.", invoice=move.name),
            promise_date=move.invoice_date_due + timedelta(days=18))
        move._followup_bring_up_to_date(today)
    if move := specials.get('payment_plan'):
        # Three monthly installments from a week after the due date, approved; the two already due were paid.
        lines = move._followup_split_plan(move.invoice_date_due + timedelta(days=7), 3)
        case = Case._followup_open(
            move, 'payment_plan', body=env._("The customer asks to pay in three installments."),
            plan_state='proposed', plan_line_ids=[Command.create(line) for line in lines])
        case.action_approve_plan()
        for line in lines:
            if line['date'] < today:
                _pay(env, move, line['date'], amount=line['amount'])
        move._followup_bring_up_to_date(today)
