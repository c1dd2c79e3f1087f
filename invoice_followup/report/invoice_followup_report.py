# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models, tools
from odoo.tools import SQL

AGING_BUCKETS = [
    ('current', "Not due"),
    ('1_30', "1-30 days"),
    ('31_60', "31-60 days"),
    ('61_90', "61-90 days"),
    ('90_plus', "Over 90 days"),
]


class InvoiceFollowupReport(models.Model):
    """Collections analysis: one row per posted customer invoice (reversed ones excluded), built by PostgreSQL.

    "Today" (aging, days late of open invoices) is the user's today (``fields.Date.context_today``), given to the
    query each time it runs (``_table_query``), so it follows the user's timezone. An invoice is paid on the
    last reconciliation date of its receivable lines (``account.partial.reconcile.max_date``).
    """

    _name = 'invoice.followup.report'
    _description = "Collections Analysis"
    _auto = False
    _rec_name = 'move_id'
    _order = 'invoice_date desc, id desc'

    _depends = {
        'account.move': [
            'move_type', 'state', 'company_id', 'commercial_partner_id', 'followup_policy_id', 'invoice_user_id',
            'journal_id', 'invoice_date', 'invoice_date_due', 'payment_state', 'amount_total_signed',
            'amount_residual_signed',
        ],
        'account.move.line': ['move_id', 'display_type'],
        'account.partial.reconcile': ['debit_move_id', 'max_date'],
        'account.payment': ['invoice_ids', 'move_id', 'state', 'date'],
        'invoice.followup.log': ['move_id', 'state', 'is_test', 'date', 'step_id', 'opened_date', 'clicked_date'],
        'res.company': ['currency_id'],
    }

    move_id = fields.Many2one('account.move', string="Invoice", readonly=True)
    company_id = fields.Many2one('res.company', readonly=True)
    currency_id = fields.Many2one('res.currency', string="Company Currency", readonly=True)
    partner_id = fields.Many2one('res.partner', string="Customer", readonly=True)
    policy_id = fields.Many2one('invoice.followup.policy', string="Follow-up Policy", readonly=True)
    user_id = fields.Many2one('res.users', string="Salesperson", readonly=True)
    journal_id = fields.Many2one('account.journal', readonly=True)
    invoice_date = fields.Date(readonly=True)
    due_date = fields.Date(readonly=True)
    paid_date = fields.Date(readonly=True)
    payment_state = fields.Selection(
        [('not_paid', "Not Paid"), ('in_payment', "In Payment"), ('paid', "Paid"), ('partial', "Partially Paid"),
         ('blocked', "Blocked"), ('invoicing_legacy', "Invoicing App Legacy")],
        readonly=True)
    amount = fields.Monetary(string="Total", currency_field='currency_id', readonly=True)
    residual = fields.Monetary(string="Amount Due", currency_field='currency_id', readonly=True)
    is_paid = fields.Boolean(string="Paid", readonly=True)
    is_due = fields.Boolean(
        string="Paid or Past Due", readonly=True,
        help="Paid, or its due date is past: whether it was paid on time is known.")
    is_paid_on_time = fields.Boolean(string="Paid on Time", readonly=True)
    paid_count = fields.Integer(string="# Paid", readonly=True)
    paid_on_time_count = fields.Integer(string="# Paid on Time", readonly=True)
    days_to_pay = fields.Integer(string="Days to Pay", aggregator='avg', readonly=True)
    days_late = fields.Integer(
        aggregator='avg', readonly=True,
        help="Days between the due date and the payment (0 when paid on time); for an unpaid invoice past its "
        "due date, the days late so far. Empty for an unpaid invoice not yet due.")
    aging_bucket = fields.Selection(AGING_BUCKETS, string="Aging", readonly=True)
    reminder_count = fields.Integer(
        string="Reminders Sent", readonly=True, help="Reminders sent before the payment (all of them if unpaid).")
    opened_count = fields.Integer(
        string="Reminders Opened", readonly=True,
        help="Of the reminders counted, those the customer opened (when the company tracks opens and clicks).")
    clicked_count = fields.Integer(
        string="Reminders Clicked", readonly=True,
        help="Of the reminders counted, those in which the customer followed a link.")
    last_opened_date = fields.Datetime(string="Last Opened On", aggregator='max', readonly=True)
    last_step_id = fields.Many2one(
        'invoice.followup.step', string="Last Reminder Step", readonly=True,
        help="The last reminder sent before the payment.")
    last_reminder_date = fields.Date(readonly=True)
    days_after_reminder = fields.Integer(
        string="Days Paid After Last Reminder", aggregator='avg', readonly=True)
    work_date = fields.Date(
        string="Work Completed", readonly=True,
        help="When the invoiced work was completed (milestone reached, period start of a recurring invoice). "
        "Filled by the add-ons that know it, see _select_work_date().")
    billing_lag = fields.Integer(
        string="Billing Lag (Days)", aggregator='avg', readonly=True,
        help="Days between the work completed and the invoice date.")

    @api.model
    def _select_work_date(self):
        """The date the invoiced work was completed, as an SQL expression over ``m`` (account_move): the day its
        project milestone was reached, or the start of its recurring period. Override to add other sources."""
        return SQL(
            "COALESCE((SELECT ms.reached_date FROM project_milestone ms WHERE ms.id = m.milestone_id),"
            " m.recurring_period_start)")

    @api.model
    def _select_paid_date(self):
        """The day an invoice ``m`` (account_move) was paid, as an SQL expression: the last reconciliation of its
        receivable lines, else the last payment matched to it without a journal entry. Meaningful for a paid invoice
        only (``payment_state`` paid or in payment)."""
        return SQL(
            """COALESCE(
                   (SELECT MAX(p.max_date)
                      FROM account_move_line l
                      JOIN account_partial_reconcile p ON p.debit_move_id = l.id
                     WHERE l.move_id = m.id
                       AND l.display_type = 'payment_term'),
                   -- a payment without journal entry (no outstanding account) matched to the invoice
                   (SELECT MAX(ap.date)
                      FROM account_move__account_payment rel
                      JOIN account_payment ap ON ap.id = rel.payment_id
                     WHERE rel.invoice_id = m.id
                       AND ap.move_id IS NULL
                       AND ap.state IN ('in_process', 'paid'))
               )""")

    @api.model
    def _query(self):
        return SQL(
            """
            SELECT m.id AS id,
                   m.id AS move_id,
                   m.company_id,
                   c.currency_id,
                   m.commercial_partner_id AS partner_id,
                   m.followup_policy_id AS policy_id,
                   m.invoice_user_id AS user_id,
                   m.journal_id,
                   m.invoice_date,
                   m.invoice_date_due AS due_date,
                   pay.paid_date,
                   m.payment_state,
                   m.amount_total_signed AS amount,
                   m.amount_residual_signed AS residual,
                   pay.paid_date IS NOT NULL AS is_paid,
                   (pay.paid_date IS NOT NULL OR m.invoice_date_due < %(today)s) AS is_due,
                   COALESCE(pay.paid_date <= m.invoice_date_due, FALSE) AS is_paid_on_time,
                   (pay.paid_date IS NOT NULL)::int AS paid_count,
                   COALESCE(pay.paid_date <= m.invoice_date_due, FALSE)::int AS paid_on_time_count,
                   pay.paid_date - m.invoice_date AS days_to_pay,
                   CASE
                       WHEN pay.paid_date IS NOT NULL THEN GREATEST(pay.paid_date - m.invoice_date_due, 0)
                       WHEN m.invoice_date_due < %(today)s THEN %(today)s - m.invoice_date_due
                   END AS days_late,
                   CASE
                       WHEN pay.paid_date IS NOT NULL THEN NULL
                       WHEN m.invoice_date_due >= %(today)s THEN 'current'
                       WHEN %(today)s - m.invoice_date_due <= 30 THEN '1_30'
                       WHEN %(today)s - m.invoice_date_due <= 60 THEN '31_60'
                       WHEN %(today)s - m.invoice_date_due <= 90 THEN '61_90'
                       ELSE '90_plus'
                   END AS aging_bucket,
                   COALESCE(rem.reminder_count, 0) AS reminder_count,
                   COALESCE(rem.opened_count, 0) AS opened_count,
                   COALESCE(rem.clicked_count, 0) AS clicked_count,
                   rem.last_opened_date,
                   rem.last_step_id,
                   rem.last_reminder_date,
                   pay.paid_date - rem.last_reminder_date AS days_after_reminder,
                   work.work_date,
                   m.invoice_date - work.work_date AS billing_lag
              FROM account_move m
              JOIN res_company c ON c.id = m.company_id
              LEFT JOIN LATERAL (SELECT %(paid_date)s AS paid_date) pay ON m.payment_state IN ('paid', 'in_payment')
              LEFT JOIN LATERAL (
                    SELECT COUNT(*) AS reminder_count,
                           COUNT(fl.opened_date) AS opened_count,
                           COUNT(fl.clicked_date) AS clicked_count,
                           MAX(fl.opened_date) AS last_opened_date,
                           MAX(fl.date) AS last_reminder_date,
                           (ARRAY_AGG(fl.step_id ORDER BY fl.date DESC, fl.id DESC))[1] AS last_step_id
                      FROM invoice_followup_log fl
                     WHERE fl.move_id = m.id
                       AND fl.state = 'sent'
                       AND fl.is_test IS NOT TRUE
                       AND (pay.paid_date IS NULL OR fl.date <= pay.paid_date)
              ) rem ON TRUE
              CROSS JOIN LATERAL (SELECT %(work_date)s AS work_date) work
             WHERE m.move_type = 'out_invoice'
               AND m.state = 'posted'
               AND m.payment_state != 'reversed'
            """,
            work_date=self._select_work_date(),
            paid_date=self._select_paid_date(),
            today=fields.Date.context_today(self),
        )

    @property
    def _table_query(self):
        return self._query()

    def init(self):
        # Earlier versions stored the query as a view, with the database's CURRENT_DATE as today.
        tools.drop_view_if_exists(self.env.cr, self._table)

    def action_open_move(self):
        self.ensure_one()
        return self.move_id._get_records_action()
