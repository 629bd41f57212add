"""Projects reviewed by people: learners' submissions, the review queue, rubrics, mentors."""
