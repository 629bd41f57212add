"""The web app: a browser front end for learners and authors, served by the API process."""
