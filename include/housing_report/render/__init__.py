"""Render: what people read. The email to officials (`email`), the workbook (`workbook`), the
official document with its annexes and charts (`official`), a unit's feedback (`feedback`),
reminders (`reminders`), the admins' page (`overview`) and the console digest (`digest`);
`outputs` renders a version's outputs in one place for the output writer and the mailer.
Texts come from the Jinja2 templates in `templates/` (`environment`)."""
