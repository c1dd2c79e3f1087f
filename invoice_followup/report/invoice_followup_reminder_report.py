# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.tools import SQL

from ..models.invoice_followup_log_tracking import CLICK_LINKS

PAID_WITHIN_DAYS = 7


class InvoiceFollowupReminderReport(models.Model):
    """Reminder analysis: one row per reminder e-mailed to a customer (sent, not in test mode), with whether the
    customer opened it, clicked one of its links, and paid the invoice within 7 days of it. The rates are averages of
    0 or 100 per reminder, so that the pivot shows the share of any group of reminders (per step, per template, per
    month…). Built by PostgreSQL each time it is read (``_table_query``); the paid date is the collections
    analysis's (``invoice.followup.report._select_paid_date``)."""

    _name = 'invoice.followup.reminder.report'
    _description = "Reminder Analysis"
    _auto = False
    _rec_name = 'move_id'
    _order = 'date desc, id desc'

    _depends = {
        'invoice.followup.log': [
            'move_id', 'company_id', 'partner_id', 'policy_id', 'step_id', 'date', 'state', 'is_test', 'channel',
            'mail_message_id', 'opened_date', 'clicked_date', 'clicked_link',
        ],
        'invoice.followup.step': ['mail_template_id'],
        'account.move': ['payment_state'],
        'account.move.line': ['move_id', 'display_type'],
        'account.partial.reconcile': ['debit_move_id', 'max_date'],
        'account.payment': ['invoice_ids', 'move_id', 'state', 'date'],
    }

    log_id = fields.Many2one('invoice.followup.log', string="Reminder", readonly=True)
    move_id = fields.Many2one('account.move', string="Invoice", readonly=True)
    company_id = fields.Many2one('res.company', readonly=True)
    partner_id = fields.Many2one('res.partner', string="Customer", readonly=True)
    policy_id = fields.Many2one('invoice.followup.policy', string="Follow-up Policy", readonly=True)
    step_id = fields.Many2one('invoice.followup.step', string="Step", readonly=True)
    template_id = fields.Many2one(
        'mail.template', string="Template", readonly=True,
        help="The e-mail's template: the step's, or the one of several invoices when the reminder went out with the "
        "customer's other invoices.")
    date = fields.Date(string="Sent On", readonly=True)
    opened_date = fields.Datetime(string="Opened On", readonly=True)
    clicked_date = fields.Datetime(string="Clicked On", readonly=True)
    clicked_link = fields.Selection(CLICK_LINKS, string="Link Clicked", readonly=True)
    paid_date = fields.Date(readonly=True)
    days_to_pay = fields.Integer(
        string="Days to Payment", aggregator='avg', readonly=True,
        help="Days between the reminder and the payment of the invoice; empty while it is not paid.")
    is_opened = fields.Boolean(string="Opened", readonly=True)
    is_clicked = fields.Boolean(string="Clicked", readonly=True)
    is_paid_within = fields.Boolean(string="Paid within 7 Days", readonly=True)
    sent_count = fields.Integer(string="Sent", readonly=True)
    opened_count = fields.Integer(string="# Opened", readonly=True)
    clicked_count = fields.Integer(string="# Clicked", readonly=True)
    paid_within_count = fields.Integer(string="# Paid within 7 Days", readonly=True)
    opened_rate = fields.Float(string="Opened (%)", aggregator='avg', readonly=True, digits=(16, 1))
    clicked_rate = fields.Float(string="Clicked (%)", aggregator='avg', readonly=True, digits=(16, 1))
    paid_within_rate = fields.Float(
        string="Paid within 7 Days (%)", aggregator='avg', readonly=True, digits=(16, 1))

    @api.model
    def _query(self):
        consolidated = self.env.ref('invoice_followup.mail_template_followup_consolidated', raise_if_not_found=False)
        return SQL(
            """
            SELECT fl.id AS id,
                   fl.id AS log_id,
                   fl.move_id,
                   fl.company_id,
                   fl.partner_id,
                   fl.policy_id,
                   fl.step_id,
                   CASE WHEN EXISTS (SELECT 1 FROM invoice_followup_log other
                                      WHERE other.mail_message_id = fl.mail_message_id AND other.id != fl.id)
                        THEN %(consolidated)s ELSE step.mail_template_id END AS template_id,
                   fl.date,
                   fl.opened_date,
                   fl.clicked_date,
                   fl.clicked_link,
                   pay.paid_date,
                   pay.paid_date - fl.date AS days_to_pay,
                   fl.opened_date IS NOT NULL AS is_opened,
                   fl.clicked_date IS NOT NULL AS is_clicked,
                   within.paid AS is_paid_within,
                   1 AS sent_count,
                   (fl.opened_date IS NOT NULL)::int AS opened_count,
                   (fl.clicked_date IS NOT NULL)::int AS clicked_count,
                   within.paid::int AS paid_within_count,
                   CASE WHEN fl.opened_date IS NOT NULL THEN 100.0 ELSE 0.0 END AS opened_rate,
                   CASE WHEN fl.clicked_date IS NOT NULL THEN 100.0 ELSE 0.0 END AS clicked_rate,
                   CASE WHEN within.paid THEN 100.0 ELSE 0.0 END AS paid_within_rate
              FROM invoice_followup_log fl
              JOIN invoice_followup_step step ON step.id = fl.step_id
              JOIN account_move m ON m.id = fl.move_id
              LEFT JOIN LATERAL (SELECT %(paid_date)s AS paid_date) pay ON m.payment_state IN ('paid', 'in_payment')
             CROSS JOIN LATERAL (
                    SELECT COALESCE(pay.paid_date - fl.date BETWEEN 0 AND %(days)s, FALSE) AS paid
             ) within
             WHERE fl.state = 'sent'
               AND fl.channel = 'email'
               AND fl.is_test IS NOT TRUE
            """,
            consolidated=consolidated.id if consolidated else None,
            paid_date=self.env['invoice.followup.report']._select_paid_date(),
            days=PAID_WITHIN_DAYS,
        )

    @property
    def _table_query(self):
        return self._query()

    def action_open_move(self):
        self.ensure_one()
        return self.move_id._get_records_action()
