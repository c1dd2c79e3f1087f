import { registry } from "@web/core/registry";

const NEW_COLUMN = ".o_kanban_group:has(.o_column_title:contains('New'))";
const IN_PROGRESS_COLUMN = ".o_kanban_group:has(.o_column_title:contains('In progress'))";
const CARD = ".o_kanban_record:contains('Tour Customer')";

registry.category("web_tour.tours").add("invoice_followup_case_tour", {
    url: "/odoo/collections",
    steps: () => [
        {
            content: "The case of the tour customer waits in the New column",
            trigger: `.o_kanban_renderer ${NEW_COLUMN} ${CARD}`,
            // Parentheses around the target: without them, the closing parenthesis of :has() is cut off.
            run: `drag_and_drop (${IN_PROGRESS_COLUMN})`,
        },
        {
            content: "The card is now in the In progress column",
            trigger: `.o_kanban_renderer ${IN_PROGRESS_COLUMN} ${CARD}`,
        },
        {
            content: "Open the case from its card",
            trigger: `${IN_PROGRESS_COLUMN} ${CARD} span.fw-bold:contains('Tour Customer')`,
            run: "click",
        },
        {
            content: "The form, loaded from the server, shows the saved stage",
            trigger: ".o_form_view .o_field_statusbar button[aria-checked='true']:contains('In progress')",
        },
        {
            content: "The next action for a dispute is shown",
            trigger: ".o_form_view .alert-info:contains('objection')",
        },
    ],
});
