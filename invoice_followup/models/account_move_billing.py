# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Command


class InvoiceFollowupBillingMixin(models.AbstractModel):
    """Part of ``account.move`` (which inherits it), in a file of its own: the keys of invoices issued by a
    recurring schedule (invoice_followup_recurring.py) or by a project milestone (project_milestone.py), each
    invoiced exactly once. ``self`` is always an invoice."""

    _name = 'invoice.followup.billing.mixin'
    _description = "Invoice: Recurring and Milestone Billing"

    # -------------------------------------------------------------------------
    # RECURRING: invoices issued by an invoice.followup.recurring schedule
    # -------------------------------------------------------------------------

    recurring_id = fields.Many2one(
        'invoice.followup.recurring', string="Recurring Schedule", readonly=True, copy=False,
        index='btree_not_null', check_company=True, ondelete='restrict')
    recurring_period_start = fields.Date(string="Billed Period Start", readonly=True, copy=False)
    recurring_period_end = fields.Date(string="Billed Period End", readonly=True, copy=False)

    # Exactly once: one live invoice per schedule and period (a cancelled one lets the period be issued again).
    _recurring_period_unique = models.UniqueIndex(
        "(recurring_id, recurring_period_start) WHERE state != 'cancel' AND recurring_id IS NOT NULL",
        "This period of the recurring schedule is already invoiced.",
    )

    @api.constrains('recurring_id', 'auto_post')
    def _check_recurring_auto_post(self):
        for move in self:
            if move.recurring_id and move.auto_post in ('monthly', 'quarterly', 'yearly'):
                raise ValidationError(self.env._(
                    "Invoice %(invoice)s is issued by the recurring schedule “%(schedule)s”: it cannot also repeat "
                    "with Auto-post, that would invoice twice.",
                    invoice=move.display_name, schedule=move.recurring_id.name))

    def action_make_recurring(self):
        """Create a recurring schedule prefilled from this customer invoice, and open it."""
        self.ensure_one()
        self.env['invoice.followup.recurring'].check_access('create')
        if self.move_type != 'out_invoice':
            raise UserError(self.env._("Only a customer invoice can be made recurring."))
        if self.auto_post in ('monthly', 'quarterly', 'yearly'):
            raise UserError(self.env._(
                "Invoice %(invoice)s already repeats with Auto-post (%(period)s): switch that off first, "
                "so that it is not invoiced twice.",
                invoice=self.display_name, period=dict(self._fields['auto_post']._description_selection(self.env))[
                    self.auto_post]))
        lines = self.invoice_line_ids.filtered(lambda line: line.display_type == 'product')
        if not lines:
            raise UserError(self.env._("Invoice %(invoice)s has no line to repeat.", invoice=self.display_name))
        start = (self.invoice_date or fields.Date.context_today(self)) + relativedelta(months=1)
        schedule = self.env['invoice.followup.recurring'].create({
            'name': self.env._("%(partner)s — %(invoice)s", partner=self.partner_id.display_name,
                               invoice=self.name if self.name and self.name != '/' else self.env._("draft")),
            'company_id': self.company_id.id,
            'partner_id': self.partner_id.id,
            'currency_id': self.currency_id.id,
            'journal_id': self.journal_id.id,
            'payment_term_id': self.invoice_payment_term_id.id,
            'date_start': start,
            'followup_policy_id': self.followup_policy_manual and self.followup_policy_id.id,
            'line_ids': [Command.create({
                'sequence': line.sequence,
                'product_id': line.product_id.id,
                'name': line.name or line.product_id.display_name,
                'quantity': line.quantity,
                'price_unit': line.price_unit,
                'tax_ids': [Command.set(line.tax_ids.ids)],
                'analytic_distribution': line.analytic_distribution,
            }) for line in lines],
        })
        schedule.message_post(body=self.env._("Created from invoice %(invoice)s.", invoice=self.display_name))
        return {
            'type': 'ir.actions.act_window',
            'res_model': 'invoice.followup.recurring',
            'res_id': schedule.id,
            'view_mode': 'form',
            'target': 'current',
        }

    def action_view_recurring(self):
        self.ensure_one()
        return {
            'type': 'ir.actions.act_window',
            'res_model': 'invoice.followup.recurring',
            'res_id': self.recurring_id.id,
            'view_mode': 'form',
        }

    # -------------------------------------------------------------------------
    # MILESTONES
    # -------------------------------------------------------------------------

    milestone_id = fields.Many2one(
        'project.milestone',
        string="Project Milestone",
        readonly=True,
        copy=False,
        ondelete='restrict',
        help="Milestone whose reaching created this invoice.",
    )
    milestone_project_id = fields.Many2one(
        related='milestone_id.project_id',
        string="Milestone Project",
        store=True,
        index='btree_not_null',
    )

    # At most one live invoice per milestone, whatever two transactions do at the same time.
    _unique_milestone_invoice = models.UniqueIndex(
        "(milestone_id) WHERE milestone_id IS NOT NULL AND state != 'cancel'",
        "A milestone already has an invoice: cancel it before invoicing the milestone again.",
    )
