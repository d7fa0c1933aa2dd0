"""Front ends: everything that renders Events for a person or a program lives here."""
