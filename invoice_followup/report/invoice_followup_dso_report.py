# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.tools import SQL

DSO_MONTHS = 24


class InvoiceFollowupDsoReport(models.Model):
    """DSO by month: one row per company and calendar month of the last 24 (the current one up to today), with
    the month's credit sales, the receivables at its end and its simple DSO, the formula of
    ``invoice.followup.kpi._compute_dso`` for that month (``TestCollectionsDashboard`` checks they agree).
    Built by PostgreSQL each time it is read (``_table_query``), "today" being the user's."""

    _name = 'invoice.followup.dso.report'
    _description = "DSO by Month"
    _auto = False
    _order = 'date desc, company_id'

    _depends = {
        'account.move': ['move_type', 'state', 'company_id', 'date', 'amount_total_signed'],
        'account.move.line': ['company_id', 'parent_state', 'account_id', 'date', 'balance'],
        'account.account': ['account_type'],
        'res.company': ['currency_id'],
    }

    date = fields.Date(string="Month", readonly=True)
    date_end = fields.Date(string="Month End", readonly=True, help="The last day of the month, or today.")
    company_id = fields.Many2one('res.company', readonly=True)
    currency_id = fields.Many2one('res.currency', string="Company Currency", readonly=True)
    credit_sales = fields.Monetary(currency_field='currency_id', readonly=True)
    receivables = fields.Monetary(
        string="Receivables at End", currency_field='currency_id', aggregator='avg', readonly=True)
    dso = fields.Float(
        string="DSO (Days)", aggregator='avg', readonly=True, digits=(16, 1),
        help="Receivables at the end of the month / credit sales of the month × days of the month (up to today). "
        "Empty in a month without sales.")

    @api.model
    def _query(self):
        return SQL(
            """
            SELECT ROW_NUMBER() OVER (ORDER BY mo.month, c.id) AS id,
                   c.id AS company_id,
                   c.currency_id,
                   mo.month AS date,
                   ends.date_end,
                   COALESCE(sales.amount, 0.0) AS credit_sales,
                   COALESCE(rec.amount, 0.0) AS receivables,
                   CASE WHEN sales.amount > 0
                        THEN COALESCE(rec.amount, 0.0) / sales.amount * (ends.date_end - mo.month + 1)
                   END AS dso
              FROM res_company c
             CROSS JOIN LATERAL (
                    SELECT GENERATE_SERIES(
                               DATE_TRUNC('month', %(today)s::date) - %(span)s * INTERVAL '1 month',
                               DATE_TRUNC('month', %(today)s::date), INTERVAL '1 month')::date AS month
             ) mo
             CROSS JOIN LATERAL (
                    SELECT LEAST((mo.month + INTERVAL '1 month' - INTERVAL '1 day')::date, %(today)s::date) AS date_end
             ) ends
              LEFT JOIN LATERAL (
                    SELECT SUM(m.amount_total_signed) AS amount
                      FROM account_move m
                     WHERE m.company_id = c.id
                       AND m.move_type IN ('out_invoice', 'out_refund')
                       AND m.state = 'posted'
                       AND m.date BETWEEN mo.month AND ends.date_end
              ) sales ON TRUE
              LEFT JOIN LATERAL (
                    SELECT SUM(l.balance) AS amount
                      FROM account_move_line l
                      JOIN account_account a ON a.id = l.account_id
                     WHERE l.company_id = c.id
                       AND l.parent_state = 'posted'
                       AND a.account_type = 'asset_receivable'
                       AND l.date <= ends.date_end
              ) rec ON TRUE
            """,
            today=fields.Date.context_today(self),
            span=DSO_MONTHS - 1,
        )

    @property
    def _table_query(self):
        return self._query()
