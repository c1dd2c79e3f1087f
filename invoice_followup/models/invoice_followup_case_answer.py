# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError

PLAN_STATES = [('proposed', "Proposed"), ('approved', "Approved"), ('refused', "Refused")]


class InvoiceFollowupCaseAnswer(models.Model):
    """What the customer said about one invoice of a case: the date they promised, whether its payment plan is
    proposed or approved, what they dispute.

    A case groups a customer's invoices by reason; the answer about each invoice is its own, and only it drives that
    invoice's reminders (``account.move._followup_resume_date`` and ``_followup_check_commitments``). Installments
    are ``invoice.followup.case.plan.line`` rows of the case carrying the invoice.
    """

    _name = 'invoice.followup.case.answer'
    _description = "Customer Answer on an Invoice"
    _order = 'case_id, move_id'
    _rec_name = 'move_id'
    _check_company_auto = True

    case_id = fields.Many2one('invoice.followup.case', string="Case", required=True, index=True, ondelete='cascade')
    move_id = fields.Many2one(
        'account.move', string="Invoice", required=True, index=True, ondelete='cascade', check_company=True)
    company_id = fields.Many2one(related='case_id.company_id', store=True)
    reason = fields.Selection(related='case_id.reason')
    promise_date = fields.Date(string="Promised Date")
    plan_state = fields.Selection(PLAN_STATES, string="Payment Plan")
    plan_line_ids = fields.Many2many(
        'invoice.followup.case.plan.line', string="Installments", compute='_compute_plan_line_ids')
    dispute_reason = fields.Selection(selection='_selection_dispute_reason', string="What Is Wrong")
    comment = fields.Text(string="Customer's Message")
    is_closed = fields.Boolean(
        string="Closed", copy=False,
        help="The invoice's promise or plan was broken, or its plan refused: the case no longer pauses its reminders.")

    _one_answer_per_invoice = models.UniqueIndex(
        "(case_id, move_id)", "An invoice has one answer per case: change it instead of adding one.")

    @api.model
    def _selection_dispute_reason(self):
        return list(self.env['account.move']._followup_dispute_reasons().items())

    @api.depends('case_id.plan_line_ids.move_id', 'move_id')
    def _compute_plan_line_ids(self):
        for answer in self:
            answer.plan_line_ids = answer.case_id.plan_line_ids.filtered(
                lambda line, answer=answer: line.move_id == answer.move_id)

    @api.constrains('case_id', 'move_id')
    def _check_move_in_case(self):
        for answer in self:
            if answer.move_id not in answer.case_id.move_ids:
                raise ValidationError(self.env._(
                    "Invoice %(invoice)s is not part of the case %(case)s: add it to the case first.",
                    invoice=answer.move_id.display_name, case=answer.case_id.display_name))

    def _is_waiting(self):
        """Whether this answer still holds its invoice's reminders: its case is open and it is not closed."""
        self.ensure_one()
        return self.case_id.is_open and not self.is_closed
