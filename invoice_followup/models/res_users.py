# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class ResUsers(models.Model):
    _inherit = 'res.users'

    def _followup_is_person(self):
        """Whether this user is a person who can act on a reminder: an active internal user, not OdooBot nor the
        superuser (the user crons and scripts run as), not a portal or public user."""
        self.ensure_one()
        return bool(self.id) and self.active and not self._is_superuser() and self._is_internal()
