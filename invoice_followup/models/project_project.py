# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Domain
from odoo.tools import float_compare

BILLING_GROUP = 'account.group_account_invoice'


class ProjectProject(models.Model):
    _inherit = 'project.project'

    def _default_billing_currency_id(self):
        return self.env.company.currency_id

    billing_partner_id = fields.Many2one(
        'res.partner',
        string="Billing Customer",
        check_company=True,
        tracking=True,
        groups=BILLING_GROUP,
        help="Customer invoiced when a milestone is reached. The billing plan is in force as soon as the project "
             "has a billing customer and a contract amount.",
    )
    billing_amount = fields.Monetary(
        string="Contract Amount",
        currency_field='billing_currency_id',
        tracking=True,
        groups=BILLING_GROUP,
        help="Untaxed amount of the contract, invoiced in shares as the milestones are reached.",
    )
    billing_currency_id = fields.Many2one(
        'res.currency',
        string="Contract Currency",
        default=lambda self: self._default_billing_currency_id(),
        groups=BILLING_GROUP,
    )
    billing_product_id = fields.Many2one(
        'product.product',
        string="Invoiced Product",
        check_company=True,
        domain=[('sale_ok', '=', True)],
        groups=BILLING_GROUP,
        help="Product of the milestone invoice lines (its income account and taxes apply).",
    )
    billing_auto_post = fields.Boolean(
        string="Post Invoices",
        groups=BILLING_GROUP,
        help="Post each milestone invoice as soon as it is created; otherwise it stays a draft to review.",
    )
    billing_auto_send = fields.Boolean(
        string="Send Invoices",
        groups=BILLING_GROUP,
        help="Send each posted milestone invoice to the customer by e-mail, with its PDF.",
    )
    milestone_auto_reach = fields.Boolean(
        string="Reach Milestones Automatically",
        help="A milestone is marked as reached as soon as all its tasks are done.",
    )
    billing_invoice_ids = fields.One2many(
        'account.move', 'milestone_project_id', string="Milestone Invoices", groups=BILLING_GROUP)
    billing_invoice_count = fields.Integer(
        compute='_compute_billing_amounts', groups=BILLING_GROUP, export_string_translation=False)
    billing_invoiced_amount = fields.Monetary(
        string="Billed",
        compute='_compute_billing_amounts',
        currency_field='billing_currency_id',
        groups=BILLING_GROUP,
        help="Untaxed amount of the milestone invoices that are not cancelled.",
    )
    billing_remaining_amount = fields.Monetary(
        string="Remaining",
        compute='_compute_billing_amounts',
        currency_field='billing_currency_id',
        groups=BILLING_GROUP,
    )
    billing_percentage_total = fields.Float(
        string="Shares Total (%)",
        compute='_compute_billing_percentage_total',
        groups=BILLING_GROUP,
        export_string_translation=False,
    )

    @api.depends('billing_invoice_ids.state', 'billing_invoice_ids.amount_untaxed', 'billing_amount')
    def _compute_billing_amounts(self):
        groups = self.env['account.move'].sudo()._read_group(
            [('milestone_project_id', 'in', self.ids), ('state', '!=', 'cancel')],
            ['milestone_project_id', 'currency_id'], ['amount_untaxed:sum', '__count'],
        )
        totals = {}
        for project, currency, amount, count in groups:
            project_total = totals.setdefault(project.id, [0.0, 0])
            billing_currency = project.sudo().billing_currency_id or currency
            project_total[0] += currency._convert(
                amount, billing_currency, project.sudo().company_id or self.env.company, fields.Date.today())
            project_total[1] += count
        for project in self:
            billed, count = totals.get(project.id, (0.0, 0))
            project.billing_invoiced_amount = billed
            project.billing_invoice_count = count
            project.billing_remaining_amount = project.billing_amount - billed

    @api.depends('milestone_ids.invoice_percentage')
    def _compute_billing_percentage_total(self):
        for project in self:
            project.billing_percentage_total = sum(project.milestone_ids.mapped('invoice_percentage'))

    @api.constrains('billing_amount')
    def _check_billing_amount(self):
        for project in self:
            if project.billing_amount < 0:
                raise ValidationError(self.env._(
                    "The contract amount of project “%(project)s” cannot be negative.", project=project.display_name))

    @api.constrains('company_id', 'billing_partner_id', 'billing_product_id')
    def _check_billing_company(self):
        # project.project does not check its companies automatically (no _check_company_auto): do it for the plan.
        self._check_company(['billing_partner_id', 'billing_product_id'])
        for milestone in self.sudo().milestone_ids:
            milestone._billing_check_sale_line()

    # -------------------------------------------------------------------------
    # ACTIONS
    # -------------------------------------------------------------------------

    def action_view_billing_invoices(self):
        self.ensure_one()
        action = self.env['ir.actions.act_window']._for_xml_id('account.action_move_out_invoice_type')
        action['domain'] = [('milestone_project_id', '=', self.id)]
        action['context'] = {'default_move_type': 'out_invoice', 'create': False}
        return action

    def action_open_billing_plan(self):
        self.ensure_one()
        return {
            'type': 'ir.actions.act_window',
            'name': self.env._("Billing Plan"),
            'res_model': 'project.milestone.billing.plan',
            'view_mode': 'form',
            'target': 'new',
            'context': {'default_project_id': self.id},
        }

    # -------------------------------------------------------------------------
    # BUSINESS METHODS: milestone billing
    # -------------------------------------------------------------------------

    def _billing_in_force(self):
        """The plan applies once the project has a billing customer and a contract amount."""
        self.ensure_one()
        project = self.sudo()
        return bool(project.billing_partner_id) and project.billing_currency_id.compare_amounts(
            project.billing_amount, 0.0) > 0

    def _billing_can_invoice(self, user):
        """Whether ``user`` may make an invoice of this project appear: a billing user of the project's company,
        or the superuser (data loading and scheduled actions)."""
        self.ensure_one()
        if user._is_superuser():
            return True
        company = self.sudo().company_id
        return user.has_group(BILLING_GROUP) and (not company or company in user.company_ids)

    def _billing_responsible(self):
        """Who invoices what the project's users cannot: the project manager when they can, else the first
        billing administrator (or billing user) of the project's company."""
        self.ensure_one()
        project = self.sudo()
        if project.user_id and self._billing_can_invoice(project.user_id):
            return project.user_id
        company = project.company_id or self.env.company
        Users = self.env['res.users'].sudo()
        for group_xmlid in ('account.group_account_manager', BILLING_GROUP):
            user = Users.search([
                ('all_group_ids', 'in', self.env.ref(group_xmlid).id), ('share', '=', False),
                ('company_ids', 'in', company.id)], order='id', limit=1)
            if user:
                return user
        return self.env.ref('base.user_admin')

    def _billing_todos(self, summary):
        todo = self.env.ref('mail.mail_activity_data_todo')
        return self.sudo().activity_ids.filtered(
            lambda activity: activity.activity_type_id == todo and activity.summary == summary)

    def _billing_todo(self, summary, user, note):
        """A to-do on the project, once per question."""
        self.ensure_one()
        return self._billing_todos(summary) or self.sudo().activity_schedule(
            'mail.mail_activity_data_todo', summary=summary, note=note, user_id=user.id)

    def _billing_todo_done(self, summary, feedback):
        for project in self:
            project._billing_todos(summary).action_feedback(feedback=feedback)

    def _billing_milestones(self):
        """The milestones that share the contract, in plan order (the last one takes the rounding)."""
        self.ensure_one()
        return self._billing_plan_milestones().filtered(lambda milestone: milestone.invoice_percentage > 0)

    def _billing_plan_milestones(self):
        """Milestones billed by the plan's own amount: all but those sold through a milestone-based sale line."""
        self.ensure_one()
        milestones = self.env['project.milestone'].sudo().search(
            Domain('project_id', '=', self.id), order='sequence, deadline, id')
        return milestones.filtered(lambda milestone: not milestone._billing_sale_line())

    def _billing_check_plan(self):
        """Refuse to invoice a plan whose shares do not add up to 100%."""
        self.ensure_one()
        total = sum(self._billing_plan_milestones().mapped('invoice_percentage'))
        if float_compare(total, 100.0, precision_digits=2):
            raise UserError(self.env._(
                "The milestone shares of project “%(project)s” add up to %(total)s%%, not 100%%: fix the billing "
                "plan (Billing Plan button on the project) before reaching a milestone.",
                project=self.display_name, total=round(total, 2)))
        project = self.sudo()
        if not project.billing_product_id:
            raise UserError(self.env._(
                "Project “%(project)s” has a billing plan but no product to invoice: set one in its Billing "
                "settings.", project=self.display_name))

    def _billing_share_amounts(self):
        """Amount of each share, rounded to the currency. A share already invoiced counts for its invoice; the
        last share not invoiced yet (in plan order) takes the remainder, so that the shares add up to the
        contract amount to the cent, even when the amount changed after the first invoices.

        :return: {milestone id: amount}
        """
        self.ensure_one()
        project = self.sudo()
        currency = project.billing_currency_id or project.company_id.currency_id or self.env.company.currency_id
        milestones = self._billing_milestones()
        amounts = {
            milestone.id: milestone.invoice_id.amount_untaxed
            for milestone in milestones
            if milestone.invoice_id.state in ('draft', 'posted') and milestone.invoice_id.currency_id == currency
        }
        to_invoice = milestones.filtered(lambda milestone: milestone.id not in amounts)
        for milestone in to_invoice[:-1]:
            amounts[milestone.id] = currency.round(project.billing_amount * milestone.invoice_percentage / 100.0)
        if to_invoice:
            amounts[to_invoice[-1].id] = currency.round(project.billing_amount - sum(amounts.values()))
        return amounts

    def _billing_schedule_review(self, milestone, invoice):
        """A reached milestone with a posted invoice was un-reached: ask a person, once, never reverse."""
        self.ensure_one()
        return self._billing_todo(
            self.env._("Milestone un-reached: %(milestone)s", milestone=milestone.name),
            self.sudo().user_id or self.env.user,
            self.env._(
                "Milestone “%(milestone)s” is no longer reached but its invoice %(invoice)s is posted. Decide "
                "whether to issue a credit note: nothing was reversed automatically.",
                milestone=milestone.name, invoice=invoice.display_name),
        )
