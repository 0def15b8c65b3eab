"""What a trained factsep classifier is and how it labels text."""
