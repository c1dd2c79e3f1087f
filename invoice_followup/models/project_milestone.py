# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from odoo import api, fields, models
from odoo.exceptions import AccessError, LockError, UserError, ValidationError
from odoo.fields import Command, Domain
from odoo.tools import float_compare

from odoo.addons.project.models.project_task import CLOSED_STATES

from .project_project import BILLING_GROUP

_logger = logging.getLogger(__name__)


class ProjectMilestone(models.Model):
    _inherit = 'project.milestone'

    invoice_percentage = fields.Float(
        string="Invoice Share (%)",
        digits=(5, 2),
        tracking=True,
        groups=BILLING_GROUP,
        help="Share of the project's contract amount invoiced when this milestone is reached.",
    )
    invoice_id = fields.Many2one(
        'account.move',
        string="Invoice",
        readonly=True,
        copy=False,
        index='btree_not_null',
        groups=BILLING_GROUP,
        help="Invoice created when this milestone was reached.",
    )
    invoice_state = fields.Selection(related='invoice_id.state', string="Invoice Status", groups=BILLING_GROUP)
    invoice_payment_state = fields.Selection(
        related='invoice_id.payment_state', string="Invoice Payment", groups=BILLING_GROUP)
    invoice_currency_id = fields.Many2one(
        'res.currency', compute='_compute_invoice_amount', groups=BILLING_GROUP, export_string_translation=False)
    invoice_amount = fields.Monetary(
        string="Share Amount",
        compute='_compute_invoice_amount',
        currency_field='invoice_currency_id',
        groups=BILLING_GROUP,
        help="Untaxed amount of this share: of its invoice once invoiced, else of the billing plan.",
    )


    @api.depends(
        'invoice_percentage', 'invoice_id.amount_untaxed', 'project_id.billing_amount',
        'project_id.billing_currency_id', 'project_id.milestone_ids.invoice_percentage',
    )
    def _compute_invoice_amount(self):
        shares = {}
        for project in self.project_id:
            shares.update(project._billing_share_amounts())
        for milestone in self:
            invoice = milestone.invoice_id
            if invoice and invoice.state != 'cancel':
                milestone.invoice_currency_id = invoice.currency_id
                milestone.invoice_amount = invoice.amount_untaxed
            else:
                milestone.invoice_currency_id = milestone.project_id.billing_currency_id
                milestone.invoice_amount = shares.get(milestone.id, 0.0)

    @api.constrains('sale_line_id', 'project_id')
    def _check_billing_sale_line(self):
        for milestone in self:
            milestone._billing_check_sale_line()

    @api.constrains('invoice_percentage')
    def _check_invoice_percentage(self):
        for milestone in self:
            if not 0.0 <= milestone.invoice_percentage <= 100.0:
                raise ValidationError(self.env._(
                    "The invoice share of milestone “%(milestone)s” must be between 0%% and 100%%, not %(share)s%%.",
                    milestone=milestone.name, share=milestone.invoice_percentage))

    # -------------------------------------------------------------------------
    # CRUD
    # -------------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        milestones = super().create(vals_list)
        milestones.filtered('is_reached')._billing_on_reached()
        return milestones

    def write(self, vals):
        if 'is_reached' not in vals:
            return super().write(vals)
        was_reached = {milestone.id: milestone.is_reached for milestone in self}
        res = super().write(vals)
        # Transitions only: writing "reached" on a reached milestone (a double click) does nothing.
        self.filtered(lambda milestone: milestone.is_reached and not was_reached[milestone.id])._billing_on_reached()
        self.filtered(lambda milestone: not milestone.is_reached and was_reached[milestone.id])._billing_on_unreached()
        return res

    # -------------------------------------------------------------------------
    # ACTIONS
    # -------------------------------------------------------------------------

    def action_billing_create_invoice(self):
        """Billing creates the invoice of a reached milestone left to it (reached by someone who cannot create
        invoices). Invoicing a milestone that already has its invoice changes nothing."""
        for milestone in self:
            if not milestone.project_id._billing_can_invoice(self.env.user):
                raise AccessError(self.env._(
                    "Only a billing user of the project's company can invoice milestone “%(milestone)s”.",
                    milestone=milestone.name))
            if not milestone.is_reached:
                raise UserError(self.env._(
                    "Milestone “%(milestone)s” is not reached: there is nothing to invoice yet.",
                    milestone=milestone.name))
        self._billing_on_reached()
        return True

    def action_view_invoice(self):
        self.ensure_one()
        return {
            'type': 'ir.actions.act_window',
            'res_model': 'account.move',
            'res_id': self.invoice_id.id,
            'view_mode': 'form',
            'views': [(False, 'form')],
        }

    # -------------------------------------------------------------------------
    # BUSINESS METHODS: milestone billing
    # -------------------------------------------------------------------------

    def _billing_sale_line(self):
        """The milestone-based sale order line this milestone delivers, if the project was sold that way."""
        self.ensure_one()
        line = self.sudo().sale_line_id
        return line if line.qty_delivered_method == 'milestones' else line.browse()

    def _billing_auto_reach(self):
        """Reach the milestones of projects that say so once all their tasks are closed, at least one done."""
        candidates = self.sudo().filtered(
            lambda milestone: not milestone.is_reached and milestone.project_id.milestone_auto_reach)
        if not candidates:
            return
        counts = {}
        for milestone, state, count in self.env['project.task'].sudo()._read_group(
                [('milestone_id', 'in', candidates.ids)], ['milestone_id', 'state'], ['__count']):
            milestone_counts = counts.setdefault(milestone.id, [0, 0])  # [done, still open]
            if state == '1_done':
                milestone_counts[0] += count
            elif state not in CLOSED_STATES:
                milestone_counts[1] += count
        to_reach = candidates.filtered(
            lambda milestone: counts.get(milestone.id, (0, 0))[0] and not counts[milestone.id][1])
        for milestone in to_reach:
            try:
                with self.env.cr.savepoint():
                    milestone.write({'is_reached': True})
            except UserError as error:
                # Closing the last task must not fail because of the billing plan: leave the milestone to a person.
                milestone.invalidate_recordset()
                milestone._billing_post(self.env._(
                    "All tasks of milestone “%(milestone)s” are done but it could not be reached automatically: "
                    "%(error)s", milestone=milestone.name, error=error.args[0]))
                continue
            milestone.message_post(body=self.env._("Reached automatically: all its tasks are done."))

    def _billing_on_reached(self):
        for milestone in self:
            project = milestone.project_id
            if not project or not project._billing_in_force():
                continue
            sale_line = milestone._billing_sale_line()
            if not project._billing_can_invoice(self.env.user):
                if sale_line or milestone.sudo().invoice_percentage:
                    milestone._billing_leave_to_billing()
                continue
            if not sale_line:
                project._billing_check_plan()
                if not milestone.sudo().invoice_percentage:
                    continue
            milestone._billing_create_invoice()
            project._billing_todo_done(milestone._billing_todo_summary(), self.env._("Invoiced."))

    def _billing_todo_summary(self):
        self.ensure_one()
        return self.env._("Milestone to invoice: %(milestone)s", milestone=self.name)

    def _billing_leave_to_billing(self):
        """Reached by a user who cannot create invoices (a project user, a portal collaborator closing the last
        task): no invoice appears. The project's billing responsible gets a to-do and invoices the milestone with
        its Create Invoice button."""
        self.ensure_one()
        project = self.project_id.sudo()
        responsible = project._billing_responsible()
        project._billing_todo(self._billing_todo_summary(), responsible, self.env._(
            "%(user)s reached milestone “%(milestone)s” but cannot create invoices: open the milestone and press "
            "Create Invoice to invoice it.", user=self.env.user.name, milestone=self.name))
        self._billing_post(self.env._(
            "Milestone “%(milestone)s” reached by %(user)s: its invoice is left to %(responsible)s.",
            milestone=self.name, user=self.env.user.name, responsible=responsible.name))

    def _billing_on_unreached(self):
        for milestone in self:
            milestone.project_id.sudo()._billing_todo_done(
                milestone._billing_todo_summary(), self.env._("The milestone is no longer reached."))
            milestone.flush_recordset()
            milestone.lock_for_update()
            invoice = milestone.sudo().invoice_id
            if not invoice or invoice.state == 'cancel':
                continue
            if invoice.state == 'draft':
                invoice.button_cancel()
                milestone.sudo().invoice_id = False
                milestone._billing_post(self.env._(
                    "Milestone “%(milestone)s” is no longer reached: its draft invoice %(invoice)s was cancelled.",
                    milestone=milestone.name, invoice=invoice.display_name))
            else:
                milestone.project_id._billing_schedule_review(milestone, invoice)
                self.env['invoice.followup.case']._followup_open(invoice, 'milestone_unreached', body=self.env._(
                    "Milestone “%(milestone)s” of project %(project)s is no longer reached, but invoice %(invoice)s "
                    "is posted.", milestone=milestone.name, project=milestone.project_id.display_name,
                    invoice=invoice.display_name))
                milestone._billing_post(self.env._(
                    "Milestone “%(milestone)s” is no longer reached but its invoice %(invoice)s is posted: nothing "
                    "was reversed, an activity asks the project manager to decide.",
                    milestone=milestone.name, invoice=invoice.display_name))

    def _billing_create_invoice(self):
        """Create this reached milestone's invoice, exactly once.

        The milestone row is locked and its invoice re-read after the lock; a unique index on
        ``account.move.milestone_id`` (invoices not cancelled) stops a concurrent transaction that got this far.
        """
        self.ensure_one()
        self.flush_recordset()
        try:
            self.lock_for_update()
        except LockError as error:
            raise UserError(self.env._(
                "Milestone “%(milestone)s” is being invoiced in another session right now: try again in a moment.",
                milestone=self.name)) from error
        milestone = self.sudo()
        milestone.invalidate_recordset(['invoice_id'])
        existing = milestone.invoice_id.filtered(lambda move: move.state != 'cancel') or self.env[
            'account.move'].sudo().search(
            Domain('milestone_id', '=', self.id) & Domain('state', '!=', 'cancel'), limit=1)
        if existing:
            milestone.invoice_id = existing
            return existing
        sale_line = self._billing_sale_line()
        invoice = self._billing_create_from_sale_line(sale_line) if sale_line else self._billing_create_from_plan()
        if not invoice:
            return invoice
        milestone.invoice_id = invoice
        project = milestone.project_id
        if project.billing_auto_post:
            invoice = self._billing_post_invoice(invoice)
        self._billing_post(self.env._(
            "Milestone “%(milestone)s” reached: invoice %(invoice)s of %(amount)s created (%(state)s).",
            milestone=self.name, invoice=invoice.display_name, amount=invoice.currency_id.format(invoice.amount_total),
            state=dict(invoice._fields['state']._description_selection(self.env)).get(invoice.state)))
        if project.billing_auto_send and invoice.state == 'posted':
            self._billing_send_invoice(invoice)
        return invoice

    def _billing_create_from_plan(self):
        self.ensure_one()
        project = self.project_id.sudo()
        company = project.company_id or project.billing_partner_id.company_id or self.env.company
        currency = project.billing_currency_id
        amount = project._billing_share_amounts()[self.id]
        if currency.compare_amounts(amount, 0.0) < 0:
            raise UserError(self.env._(
                "Milestone “%(milestone)s” cannot be invoiced: the invoices of project “%(project)s” already exceed "
                "its contract amount of %(amount)s.", milestone=self.name, project=project.display_name,
                amount=currency.format(project.billing_amount)))
        if currency.is_zero(amount):
            self._billing_post(self.env._(
                "Milestone “%(milestone)s” reached: nothing left to invoice on the contract.", milestone=self.name))
            return self.env['account.move']
        line_vals = {
            'product_id': project.billing_product_id.id,
            'name': self.env._(
                "%(project)s: %(milestone)s (%(share)s%% of %(total)s)", project=project.name, milestone=self.name,
                share=round(self.sudo().invoice_percentage, 2),
                total=project.billing_currency_id.format(project.billing_amount)),
            'quantity': 1.0,
            'price_unit': amount,
        }
        if project.account_id:
            line_vals['analytic_distribution'] = {str(project.account_id.id): 100}
        return self.env['account.move'].sudo().with_company(company).with_context(
            default_move_type='out_invoice').create({
                'move_type': 'out_invoice',
                'company_id': company.id,
                'partner_id': project.billing_partner_id.id,
                'currency_id': project.billing_currency_id.id,
                'invoice_origin': project.name,
                'milestone_id': self.id,
                'invoice_line_ids': [Command.create(line_vals)],
            })

    def _billing_create_from_sale_line(self, sale_line):
        """Invoice the milestone's share of its sale order line, the way the sale order would."""
        self.ensure_one()
        self._billing_check_sale_line()
        order = sale_line.order_id.with_company(sale_line.company_id)
        order._followup_lock_for_invoicing()  # the order's own "Create invoice" takes the same lock
        sale_line = sale_line.with_company(sale_line.company_id)
        quantity = min(self.sudo().product_uom_qty, sale_line.qty_to_invoice)
        if float_compare(quantity, 0.0, precision_rounding=sale_line.product_uom_id.rounding or 0.01) <= 0:
            self._billing_post(self.env._(
                "Milestone “%(milestone)s” reached: nothing left to invoice on sale order %(order)s.",
                milestone=self.name, order=order.name))
            return self.env['account.move']
        invoice_vals = order._prepare_invoice()
        invoice_vals['milestone_id'] = self.id
        invoice_vals['invoice_line_ids'] = [
            Command.create(sale_line._prepare_invoice_line(quantity=quantity, sequence=1))]
        return order._create_account_invoices([invoice_vals], final=False)

    def _billing_post_invoice(self, invoice):
        """Post the new invoice; when posting is refused, keep the draft and say why (the milestone stays reached)."""
        try:
            with self.env.cr.savepoint():
                invoice.action_post()
        except UserError as error:
            invoice.invalidate_recordset()
            _logger.info("Milestone invoice %s could not be posted: %s", invoice.id, error)
            invoice.message_post(body=self.env._(
                "This milestone invoice could not be posted automatically: %(error)s", error=error.args[0]))
        return invoice

    def _billing_send_invoice(self, invoice):
        """Hand the posted invoice to Odoo's own send queue (PDF and e-mail out of the user's transaction)."""
        self.env['account.move.send']._followup_send_later(invoice, self.env.user)

    def _billing_check_sale_line(self):
        """A milestone invoices only an order of its project's billing customer, in the project's company."""
        self.ensure_one()
        milestone = self.sudo()
        line, project = milestone.sale_line_id, milestone.project_id
        if not line or not project:
            return
        order = line.order_id
        if project.company_id and line.company_id != project.company_id:
            raise ValidationError(self.env._(
                "Milestone “%(milestone)s” cannot invoice sale order %(order)s: the order belongs to %(company)s, "
                "project “%(project)s” to %(project_company)s.", milestone=milestone.name, order=order.name,
                company=line.company_id.name, project=project.display_name, project_company=project.company_id.name))
        customer = project.billing_partner_id.commercial_partner_id
        if customer and (order.partner_id | order.partner_invoice_id).commercial_partner_id != customer:
            raise ValidationError(self.env._(
                "Milestone “%(milestone)s” cannot invoice sale order %(order)s of %(customer)s: project "
                "“%(project)s” bills %(billing)s.", milestone=milestone.name, order=order.name,
                customer=order.partner_id.display_name, project=project.display_name,
                billing=project.billing_partner_id.display_name))

    def _billing_post(self, body):
        """The same chatter note on the milestone and on its project."""
        self.ensure_one()
        self.sudo().message_post(body=body)
        self.project_id.sudo().message_post(body=body)
