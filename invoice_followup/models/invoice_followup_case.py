# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

import psycopg2.errors

from odoo import api, fields, models
from odoo.exceptions import ConcurrencyError, UserError
from odoo.fields import Command

from ..const import CASE_REASON_TABLE, CASE_REASONS, CLEARS_EXCEPTION_REASONS, PAUSING_REASONS, URGENT_REASONS
from .invoice_followup_case_answer import PLAN_STATES
from .res_partner import PAYS_LATE_DAYS
from .res_partner_risk import RISK_BANDS

# What the customer says about an invoice: stored on that invoice's answer (invoice.followup.case.answer), not on
# the case its customer's other invoices share.
ANSWER_FIELDS = ('promise_date', 'plan_state', 'plan_line_ids', 'dispute_reason', 'comment')


class InvoiceFollowupCase(models.Model):
    """Something automation must not handle alone: one open case per customer and reason."""

    _name = 'invoice.followup.case'
    _description = "Collection Case"
    _inherit = ['mail.thread', 'mail.activity.mixin']
    # Urgent first; among equals, the customers with the lowest payment score (the riskiest) come first.
    _order = 'priority desc, partner_risk_score, partner_avg_days_late desc, next_action_date, id desc'
    _check_company_auto = True

    name = fields.Char(compute='_compute_name', store=True)
    company_id = fields.Many2one(
        'res.company', required=True, index=True, default=lambda self: self.env.company)
    partner_id = fields.Many2one(
        'res.partner', string="Customer", required=True, index=True, tracking=True, check_company=True)
    move_ids = fields.Many2many(
        'account.move', 'invoice_followup_case_move_rel', 'case_id', 'move_id', string="Invoices",
        domain="[('move_type', '=', 'out_invoice'), ('commercial_partner_id', '=', partner_id)]", check_company=True)
    reason = fields.Selection(CASE_REASONS, required=True, tracking=True)
    stage_id = fields.Many2one(
        'invoice.followup.case.stage', string="Stage", tracking=True, index=True, copy=False,
        default=lambda self: self._default_stage_id(), group_expand='_read_group_expand_stage_ids',
        ondelete='restrict')
    is_open = fields.Boolean(compute='_compute_is_open', store=True, index=True)
    resolved_date = fields.Date(
        compute='_compute_resolved_date', store=True, copy=False, help="When the case reached a resolved stage.")
    user_id = fields.Many2one(
        'res.users', string="Assigned To", tracking=True, domain="[('share', '=', False)]",
        default=lambda self: self._default_user_id())
    priority = fields.Selection(
        [('0', "Normal"), ('1', "Important"), ('2', "Urgent"), ('3', "Critical")], default='0')
    currency_id = fields.Many2one('res.currency', compute='_compute_currency_id', store=True)
    amount_due = fields.Monetary(compute='_compute_amounts', currency_field='currency_id')
    days_overdue = fields.Integer(compute='_compute_amounts')
    next_action_date = fields.Date(tracking=True, default=fields.Date.context_today)
    next_action = fields.Char(compute='_compute_next_action')
    description = fields.Text()
    answer_ids = fields.One2many('invoice.followup.case.answer', 'case_id', string="Customer Answers")
    promise_date = fields.Date(
        compute='_compute_promise_date', inverse='_inverse_promise_date', store=True, readonly=False, tracking=True,
        help="The next date the customer promised to pay one of the invoices; each invoice keeps its own date. "
             "Set here, it applies to every invoice of the case.")
    plan_line_ids = fields.One2many('invoice.followup.case.plan.line', 'case_id', string="Installments")
    plan_amount_total = fields.Monetary(compute='_compute_plan_amount_total', currency_field='currency_id')
    plan_state = fields.Selection(
        PLAN_STATES, compute='_compute_plan_state', inverse='_inverse_plan_state', store=True, readonly=False,
        tracking=True,
        help="Proposed while a plan of one of the invoices waits for review; each invoice keeps its own plan. "
             "Set here, it applies to the plan of every invoice of the case.")
    color = fields.Integer(compute='_compute_color')
    partner_avg_days_late = fields.Float(
        string="Customer Days Late", compute='_compute_partner_payment_behaviour', store=True, aggregator='avg',
        help="How late the customer paid on average over the last 12 months (refreshed daily).")
    partner_pays_late = fields.Boolean(
        string="Usually Pays Late", compute='_compute_partner_payment_behaviour', store=True)
    partner_risk_score = fields.Integer(
        string="Customer Payment Score", compute='_compute_partner_risk', store=True, aggregator='avg',
        help="The customer's payment score in the case's company (0 to 100, higher is better; 100 without "
        "history). The board shows the riskiest customers first.")
    partner_risk_band = fields.Selection(
        RISK_BANDS, string="Customer Payment Risk", compute='_compute_partner_risk', store=True)

    _one_open_case_per_reason = models.UniqueIndex(
        "(company_id, partner_id, reason) WHERE is_open",
        "This customer already has an open case for this reason.",
    )

    def _default_stage_id(self):
        return self.env['invoice.followup.case.stage'].search([('is_resolved', '=', False)], limit=1)

    def _default_user_id(self):
        return self.env.user if not self.env.user._is_superuser() else False

    @api.depends('partner_id', 'reason')
    def _compute_name(self):
        labels = dict(CASE_REASONS)
        for case in self:
            case.name = f"{case.partner_id.display_name or ''} – {labels.get(case.reason, '')}"

    @api.depends('stage_id.is_resolved')
    def _compute_is_open(self):
        for case in self:
            case.is_open = not case.stage_id.is_resolved

    @api.depends('is_open')
    def _compute_resolved_date(self):
        for case in self:
            if case.is_open:
                case.resolved_date = False
            elif not case.resolved_date:
                case.resolved_date = fields.Date.context_today(case)

    @api.depends('partner_id', 'company_id')
    def _compute_partner_payment_behaviour(self):
        for company, cases in self.grouped('company_id').items():
            stats = cases.partner_id.sudo()._followup_payment_behaviour(company)
            for case in cases:
                days_late = stats.get(case.partner_id.commercial_partner_id, (0.0, 0.0))[0]
                case.partner_avg_days_late = days_late
                case.partner_pays_late = days_late > PAYS_LATE_DAYS

    @api.depends('partner_id', 'company_id', 'partner_id.followup_risk_score', 'partner_id.followup_risk_band')
    def _compute_partner_risk(self):
        for case in self:
            partner = case.partner_id.with_company(case.company_id).sudo()
            case.partner_risk_band = partner.followup_risk_band
            case.partner_risk_score = partner.followup_risk_score if partner.followup_risk_band else 100

    @api.depends('move_ids.currency_id', 'company_id')
    def _compute_currency_id(self):
        for case in self:
            case.currency_id = case.move_ids[:1].currency_id or case.company_id.currency_id

    @api.depends('move_ids.amount_residual', 'move_ids.invoice_date_due', 'currency_id')
    def _compute_amounts(self):
        for case in self:
            today = case.company_id._followup_today() if case.company_id else fields.Date.today()
            open_moves = case.move_ids.filtered(lambda move: move.state == 'posted')
            case.amount_due = sum(
                open_moves.filtered(lambda move, case=case: move.currency_id == case.currency_id).mapped(
                    'amount_residual'))
            due_dates = [move.followup_due_date for move in open_moves
                         if move.amount_residual and move.followup_due_date]
            case.days_overdue = max([(today - date).days for date in due_dates] + [0])

    @api.depends('answer_ids.promise_date', 'answer_ids.is_closed')
    def _compute_promise_date(self):
        for case in self:
            dated = case.answer_ids.filtered('promise_date')
            waiting = dated.filtered(lambda answer: not answer.is_closed) or dated
            case.promise_date = min(waiting.mapped('promise_date'), default=False)

    def _inverse_promise_date(self):
        for case in self:
            case._followup_set_answers(case.move_ids, {'promise_date': case.promise_date})

    @api.depends('answer_ids.plan_state', 'answer_ids.is_closed')
    def _compute_plan_state(self):
        for case in self:
            answers = case.answer_ids.filtered(lambda answer: not answer.is_closed) or case.answer_ids
            states = set(answers.mapped('plan_state'))
            case.plan_state = next((state for state in ('proposed', 'approved', 'refused') if state in states), False)

    def _inverse_plan_state(self):
        for case in self:
            case._followup_set_answers(case.plan_line_ids.move_id or case.move_ids, {'plan_state': case.plan_state})

    @api.depends('plan_line_ids.amount')
    def _compute_plan_amount_total(self):
        for case in self:
            case.plan_amount_total = sum(case.plan_line_ids.mapped('amount'))

    @api.depends('reason')
    def _compute_next_action(self):
        for case in self:
            case.next_action = self._next_action_texts()[case.reason] if case.reason else False

    @api.depends('reason', 'priority')
    def _compute_color(self):
        for case in self:
            case.color = CASE_REASON_TABLE[case.reason].color if case.reason in CASE_REASON_TABLE else 0

    @api.model
    def _read_group_expand_stage_ids(self, stages, domain):
        # Every stage is a column of the board, even an empty one; there are a handful.
        return stages.search([('id', 'not in', [])], order=stages._order)

    def _next_action_texts(self):
        """What a person should do, per reason (shown on the card and the form)."""
        return {
            'dispute': self.env._("Check the customer's objection, correct or explain the invoice, then resolve."),
            'promise': self.env._("Wait for the promised payment; the case closes itself when the invoice is paid."),
            'payment_plan': self.env._("Review the proposed installments and approve or refuse the plan."),
            'bounce': self.env._("Find a working e-mail address for the customer; reminders resume when it changes."),
            'no_email': self.env._("Add an e-mail address to the customer; reminders resume when it is set."),
            'max_reminders': self.env._("Call the customer: reminders alone have not worked."),
            'high_value': self.env._("A person takes this step: call the customer before any firm reminder."),
            'failure': self.env._("Read the error on the invoice, fix its cause and resume the reminders."),
            'broken_promise': self.env._("The promised date passed without payment: call the customer."),
            'milestone_unreached': self.env._(
                "The milestone is no longer reached: confirm the invoice or issue a credit note, then resolve."),
            'partial_payments': self.env._("The customer keeps paying part of the amount: agree on a plan."),
            'customer_reply': self.env._(
                "Read the customer's reply to the reminder and answer it, then resolve: reminders resume."),
            'unapplied_payment': self.env._(
                "Reconcile the customer's payments or credit notes with the invoices: reminders stay held until then, "
                "and the case closes itself once nothing is left to match."),
        }

    # -------------------------------------------------------------------------
    # CRUD
    # -------------------------------------------------------------------------

    def write(self, vals):
        was_open = self.filtered('is_open')
        res = super().write(vals)
        if 'move_ids' in vals:
            # What was said about an invoice taken out of the case leaves with it.
            self.answer_ids.filtered(lambda answer: answer.move_id not in answer.case_id.move_ids).unlink()
            self.plan_line_ids.filtered(lambda line: line.move_id not in line.case_id.move_ids).unlink()
        if 'stage_id' in vals:
            resolved = was_open.filtered(lambda case: not case.is_open)
            resolved._followup_on_resolved()
        return res

    # -------------------------------------------------------------------------
    # ACTIONS
    # -------------------------------------------------------------------------

    def action_resolve(self):
        stage = self.env['invoice.followup.case.stage'].search([('is_resolved', '=', True)], limit=1)
        if not stage:
            raise UserError(self.env._("Create a stage marked “Resolved Stage” first."))
        self.write({'stage_id': stage.id})
        for case in self:
            case.message_post(body=self.env._("Resolved: reminders resume at the next step."))
        return True

    def action_schedule_call(self):
        for case in self:
            case.activity_schedule(
                'mail.mail_activity_data_call',
                date_deadline=case.next_action_date or fields.Date.context_today(case),
                summary=self.env._("Call %(customer)s", customer=case.partner_id.display_name),
                note=case.next_action,
                user_id=(case.user_id or self.env.user).id,
            )
        return True

    def action_snooze(self):
        """Look again in a week; the invoices' reminders stay paused meanwhile when the reason pauses them."""
        for case in self:
            case.next_action_date = (case.next_action_date or fields.Date.context_today(case)) + timedelta(days=7)
        return True

    def action_send_next_reminder(self):
        self.ensure_one()
        moves = self.move_ids.filtered(lambda move: move.followup_state == 'active')
        if not moves:
            raise UserError(self.env._(
                "No invoice of this case is being reminded: resolve the case first to resume its reminders."))
        return moves.action_followup_send_now()

    def action_approve_plan(self):
        """Approve the plans waiting for review; the invoices whose plan is already approved keep theirs."""
        for case in self:
            proposed = case._followup_proposed_plans()
            if case.reason != 'payment_plan' or not proposed:
                raise UserError(self.env._("Only a case with proposed installments can be approved."))
            proposed.plan_state = 'approved'
            case.message_post(body=self.env._(
                "Payment plan approved for %(invoices)s.", invoices=", ".join(proposed.move_id.mapped('name'))))
        return True

    def action_refuse_plan(self):
        """Refuse the plans waiting for review (or, when none is, every plan of the case): the reminders of those
        invoices resume; the case is resolved once no invoice of it is left with a plan."""
        for case in self:
            refused = case._followup_proposed_plans() or case.answer_ids.filtered(lambda answer: not answer.is_closed)
            if case.reason != 'payment_plan' or not refused:
                raise UserError(self.env._("This case has no payment plan to refuse."))
            refused.write({'plan_state': 'refused', 'is_closed': True})
            case.message_post(body=self.env._(
                "Payment plan refused for %(invoices)s; their reminders resume.",
                invoices=", ".join(refused.move_id.mapped('name'))))
            case._followup_resolve_if_settled()
        return True

    def action_open_moves(self):
        self.ensure_one()
        action = self.env['ir.actions.act_window']._for_xml_id('account.action_move_out_invoice_type')
        action['domain'] = [('id', 'in', self.move_ids.ids)]
        action['context'] = {'create': False}
        return action

    # -------------------------------------------------------------------------
    # BUSINESS METHODS
    # -------------------------------------------------------------------------

    @api.model
    def _followup_open(self, moves, reason, body=None, partner=None, company=None, **values):
        """Open the case of ``reason`` for the customer of ``moves`` (or ``partner`` in ``company`` when there is
        no invoice yet), or add the invoices to the case already open.

        Idempotent: the same invoice and reason never give a second case (a unique index backs it).
        What the customer said (``promise_date``, ``plan_state``, ``plan_line_ids``, ``dispute_reason``, ``comment``)
        is stored on the answers of ``moves`` only: the other invoices of the case keep theirs.
        :return: the case
        """
        answer_values = {name: values.pop(name) for name in ANSWER_FIELDS if name in values}
        partner = partner or moves.commercial_partner_id
        partner.ensure_one()
        company = company or moves.company_id
        company.ensure_one()
        case = self.sudo().search([
            ('company_id', '=', company.id), ('partner_id', '=', partner.id), ('reason', '=', reason),
            ('is_open', '=', True),
        ], limit=1)
        news = bool(answer_values)  # something to say on the case: it opens, an invoice joins, a customer answers
        if case:
            new_moves = moves - case.move_ids
            news = news or bool(new_moves)
            if new_moves or values:
                case.write({**values, 'move_ids': [Command.link(move.id) for move in new_moves]})
        else:
            news = True
            case = self._followup_create_once(self.sudo().with_company(company), {
                'company_id': company.id,
                'partner_id': partner.id,
                'reason': reason,
                'move_ids': [Command.set(moves.ids)],
                'user_id': self._followup_default_assignee(moves).id,
                'priority': '2' if reason in URGENT_REASONS else '1',
                **values,
            })
        if answer_values:
            case._followup_set_answers(moves, {**answer_values, 'is_closed': False})
        if body and news:
            case.message_post(body=body)
        return case

    @api.model
    def _followup_create_once(self, model, vals):
        """Create a row that a unique index keeps single (one open case per customer and reason, one answer per
        invoice and case).

        When another transaction committed the same row after this one started (two tabs, a double click on the
        customer's page), this one could not see it: raise a concurrency error, so that Odoo retries the request,
        which then finds the row and answers like the first one, instead of failing on the index.
        """
        try:
            with self.env.cr.savepoint():
                return model.create(vals)
        except psycopg2.errors.UniqueViolation as error:
            raise ConcurrencyError(f"{model._name} created meanwhile by another transaction") from error

    def _followup_set_answers(self, moves, values):
        """Record what the customer said about ``moves`` (each invoice its own answer, created when missing).

        ``plan_line_ids`` (creation commands) replaces the installments of these invoices in this case.
        :return: the answers of ``moves``
        """
        self.ensure_one()
        values = dict(values)
        plan_commands = values.pop('plan_line_ids', None)
        answers = self.answer_ids.filtered(lambda answer: answer.move_id in moves)
        if values and answers:
            answers.write(values)
        if missing := moves - answers.move_id:
            Answer = self.env['invoice.followup.case.answer'].sudo()
            answers |= self._followup_create_once(
                Answer, [{'case_id': self.id, 'move_id': move.id, **values} for move in missing])
        if plan_commands is not None:
            self.plan_line_ids.filtered(lambda line: line.move_id in moves).unlink()
            self.write({'plan_line_ids': [
                Command.create({'move_id': moves.id if len(moves) == 1 else False, **command[2]})
                for command in plan_commands]})
        return answers

    def _followup_proposed_plans(self):
        """Answers of invoices with installments that wait for review."""
        self.ensure_one()
        answers = self._followup_set_answers(self.plan_line_ids.move_id, {})
        return answers.filtered(lambda answer: not answer.is_closed and answer.plan_state in (False, 'proposed'))

    def _followup_close_answers(self, moves, body=None):
        """The promise or plan of ``moves`` is over (broken): the case no longer pauses these invoices, and it is
        resolved when none of its invoices is left waiting."""
        for case in self:
            case._followup_set_answers(moves, {'is_closed': True})
            if body:
                case.message_post(body=body)
            case._followup_resolve_if_settled()

    def _followup_settled(self):
        """The open cases none of whose invoices is still waiting: each is paid or cancelled, or its answer closed.
        An unapplied payment's case is settled too once the customer has nothing left to reconcile."""
        unapplied = self.filtered(lambda case: case.reason == 'unapplied_payment')
        credits = self.env['invoice.followup.planner']._unapplied_credits(unapplied.move_ids)
        return self.filtered(lambda case: case.is_open and (not any(
            move.state == 'posted' and not move._followup_is_paid()
            for move in case.move_ids - case.answer_ids.filtered('is_closed').move_id
        ) or (case.reason == 'unapplied_payment' and not any(
            (move.commercial_partner_id.id, move.company_id.id, move.currency_id.id) in credits
            for move in case.move_ids))))

    def _followup_resolve_if_settled(self):
        settled = self._followup_settled()
        settled.action_resolve()
        return settled

    @api.model
    def _followup_default_assignee(self, moves):
        """The invoice's salesperson, unless it is a bot or a portal user (invoices created by scripts)."""
        return moves[:1].followup_salesperson_id

    @api.model
    def _followup_resolve(self, moves, reasons, body=None):
        cases = self.sudo().search([
            ('move_ids', 'in', moves.ids), ('reason', 'in', list(reasons)), ('is_open', '=', True)])
        if cases:
            cases.action_resolve()
            if body:
                for case in cases:
                    case.message_post(body=body)
        return cases

    def _followup_notify_assignee(self, summary):
        """A customer answered: the person in charge gets a to-do (one per case)."""
        for case in self:
            user = case.user_id or case.company_id._followup_responsible() or self.env.ref('base.user_admin')
            if not case.activity_search(['mail.mail_activity_data_todo'], user_id=user.id):
                case.activity_schedule(
                    'mail.mail_activity_data_todo', summary=summary, note=case.next_action, user_id=user.id)

    def _followup_on_resolved(self):
        """A failure or a missing address was dealt with: its invoices leave the exception and resume."""
        self.activity_ids.action_feedback(feedback=self.env._("Case resolved."))
        fixed = self.filtered(lambda case: case.reason in CLEARS_EXCEPTION_REASONS)
        moves = fixed.move_ids.filtered(lambda move: move.followup_state == 'exception')
        if moves:
            moves.sudo().followup_error = False

    def _followup_pauses(self):
        return self.filtered(lambda case: case.is_open and case.reason in PAUSING_REASONS)

    # -------------------------------------------------------------------------
    # CRON
    # -------------------------------------------------------------------------

    @api.model
    def _cron_refresh_payment_behaviour(self, batch_size=500):
        """Refresh the customer's payment behaviour on open cases (the board sorts and flags late payers), in
        batches committed one by one; a case locked by someone else waits for the next run."""
        cron = self.env['ir.cron']
        cases = self.search([('is_open', '=', True)], order='id')
        fields_to_compute = [self._fields['partner_avg_days_late'], self._fields['partner_pays_late']]
        for start in range(0, len(cases), batch_size):
            batch = cases[start:start + batch_size].try_lock_for_update()
            for field in fields_to_compute:
                self.env.add_to_compute(field, batch)
            batch.flush_recordset()
            if not cron._commit_progress(len(batch), remaining=max(len(cases) - start - batch_size, 0)):
                break
