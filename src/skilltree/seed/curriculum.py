"""The demo's curriculum: six published trees of real skills with real prerequisite structure.

Each skill names the skills it needs by short name; a skill may only need skills listed before it,
so every tree is acyclic by construction and the listing order is a valid learning order.
"""

from __future__ import annotations

from dataclasses import dataclass

from skilltree.models import DifficultyLevel, SkillType

K, P, J = SkillType.KNOWLEDGE, SkillType.PRACTICAL, SkillType.PROJECT


@dataclass(frozen=True)
class SkillOutline:
    """One skill: what it teaches, how long it takes, which skills it needs (by short name)."""

    name: str
    short_name: str
    kind: SkillType
    minutes: int
    xp: int
    needs: str
    description: str
    objectives: tuple[str, ...]
    resources: tuple[tuple[str, str], ...]
    """(title, url) of each external resource."""
    optional: bool = False
    milestone: bool = False

    @property
    def prerequisites(self) -> list[str]:
        """Short names of the skills this one needs."""
        return [name.strip() for name in self.needs.split(",") if name.strip()]


@dataclass(frozen=True)
class TreeOutline:
    """One tree: its catalogue entry and its skills in a valid learning order."""

    slug: str
    name: str
    category: str
    difficulty: DifficultyLevel
    short_description: str
    description: str
    tags: tuple[str, ...]
    skills: tuple[SkillOutline, ...]
    featured: bool = False
    prerequisites: tuple[str, ...] = ()
    """Slugs of trees to learn first."""


CATEGORIES = (
    {
        "name": "Data Science",
        "slug": "data-science",
        "description": "Data analysis, statistics, visualisation and machine learning",
        "color": "#8B5CF6",
        "icon": "chart-bar",
        "sort_order": 3,
    },
    {
        "name": "DevOps",
        "slug": "devops",
        "description": "Automation, infrastructure, deployment and operations",
        "color": "#F97316",
        "icon": "server",
        "sort_order": 4,
    },
    {
        "name": "Design",
        "slug": "design",
        "description": "User experience, interface and visual design",
        "color": "#EC4899",
        "icon": "pen-tool",
        "sort_order": 5,
    },
)

PYTHON_FOR_DATA_SCIENCE = TreeOutline(
    slug="python-for-data-science",
    name="Python for Data Science",
    category="data-science",
    difficulty=DifficultyLevel.BEGINNER,
    short_description="From your first Python script to a validated predictive model",
    description=(
        "Learn Python from scratch and use it to load, clean, explore, visualise and model real "
        "data with NumPy, pandas, Matplotlib, seaborn, SciPy and scikit-learn."
    ),
    tags=("python", "pandas", "statistics", "machine-learning"),
    featured=True,
    skills=(
        SkillOutline(
            "Python Syntax and Variables", "Python Basics", K, 90, 30, "",
            "Run Python interactively and as scripts; work with numbers, strings, booleans and "
            "variables.",
            ("Run code in the REPL and from a file", "Use int, float, str and bool values",
             "Name and reassign values with variables"),
            (("The Python Tutorial: An Informal Introduction",
              "https://docs.python.org/3/tutorial/introduction.html"),),
        ),
        SkillOutline(
            "Control Flow", "Control Flow", P, 90, 35, "Python Basics",
            "Make decisions and repeat work with if/elif/else, for and while loops, break and "
            "continue.",
            ("Branch on conditions with if/elif/else",
             "Iterate over sequences with for and range()",
             "Stop or skip iterations with break and continue"),
            (("The Python Tutorial: More Control Flow Tools",
              "https://docs.python.org/3/tutorial/controlflow.html"),),
        ),
        SkillOutline(
            "Lists, Dictionaries and Sets", "Data Structures", P, 120, 40, "Python Basics",
            "Store and look up collections of values with Python's built-in containers and "
            "comprehensions.",
            ("Choose between list, tuple, dict and set", "Write list and dict comprehensions",
             "Sort and search collections"),
            (("The Python Tutorial: Data Structures",
              "https://docs.python.org/3/tutorial/datastructures.html"),),
        ),
        SkillOutline(
            "Functions and Modules", "Functions", P, 120, 40, "Control Flow, Data Structures",
            "Package logic into reusable functions with parameters and return values, and organise "
            "code into modules.",
            ("Define functions with default and keyword arguments",
             "Import from the standard library and your own modules",
             "Document functions with docstrings"),
            (("The Python Tutorial: Defining Functions",
              "https://docs.python.org/3/tutorial/controlflow.html#defining-functions"),
             ("The Python Tutorial: Modules", "https://docs.python.org/3/tutorial/modules.html")),
        ),
        SkillOutline(
            "Jupyter Notebooks", "Jupyter", P, 60, 20, "Python Basics",
            "Explore data interactively: run cells, mix code with Markdown notes and share "
            "reproducible notebooks.",
            ("Create, run and reorder notebook cells", "Document an analysis with Markdown cells",
             "Restart the kernel and rerun a notebook from top to bottom"),
            (("Project Jupyter Documentation", "https://docs.jupyter.org/en/latest/"),),
        ),
        SkillOutline(
            "NumPy Arrays", "NumPy", K, 150, 50, "Functions, Jupyter",
            "Compute on whole arrays at once: creation, indexing, slicing, broadcasting and "
            "vectorised maths.",
            ("Create arrays and inspect their shape and dtype",
             "Index and slice multi-dimensional arrays",
             "Replace loops with vectorised operations and broadcasting"),
            (("NumPy: the absolute basics for beginners",
              "https://numpy.org/doc/stable/user/absolute_beginners.html"),),
        ),
        SkillOutline(
            "pandas DataFrames", "pandas", P, 180, 60, "NumPy",
            "Load tabular data from CSV and Excel into DataFrames, then select, filter and sort "
            "rows and columns.",
            ("Read CSV files into a DataFrame", "Select columns and filter rows with boolean masks",
             "Use loc and iloc for label and position indexing"),
            (("10 minutes to pandas", "https://pandas.pydata.org/docs/user_guide/10min.html"),),
        ),
        SkillOutline(
            "Cleaning Messy Data", "Data Cleaning", P, 150, 55, "pandas",
            "Turn raw data into analysis-ready data: missing values, duplicates, wrong types and "
            "inconsistent text.",
            ("Detect and fill or drop missing values", "Remove duplicate records",
             "Convert columns to proper dtypes, including dates"),
            (("pandas: Working with missing data",
              "https://pandas.pydata.org/docs/user_guide/missing_data.html"),),
        ),
        SkillOutline(
            "Grouping and Aggregation", "Group By", P, 120, 45, "pandas",
            "Answer per-category questions with split-apply-combine: groupby, aggregations and "
            "pivot tables.",
            ("Group rows and compute several aggregates at once",
             "Build pivot tables and cross-tabulations", "Apply custom functions to groups"),
            (("pandas: Group by: split-apply-combine",
              "https://pandas.pydata.org/docs/user_guide/groupby.html"),),
        ),
        SkillOutline(
            "Merging and Reshaping Data", "Merge & Reshape", P, 120, 45, "Data Cleaning, Group By",
            "Combine tables with joins and concatenation, and move between wide and long formats "
            "with melt and pivot.",
            ("Join DataFrames on keys with merge()", "Stack datasets with concat()",
             "Reshape between wide and long form"),
            (("pandas: Merge, join, concatenate and compare",
              "https://pandas.pydata.org/docs/user_guide/merging.html"),),
        ),
        SkillOutline(
            "Working with Time Series", "Time Series", P, 120, 45, "Data Cleaning",
            "Parse dates, resample to a new frequency and compute rolling statistics over "
            "time-indexed data.",
            ("Build a DatetimeIndex from raw date strings",
             "Resample daily data to weekly or monthly", "Compute rolling means and differences"),
            (("pandas: Time series / date functionality",
              "https://pandas.pydata.org/docs/user_guide/timeseries.html"),),
            optional=True,
        ),
        SkillOutline(
            "Plotting with Matplotlib", "Matplotlib", P, 120, 45, "pandas",
            "Draw line, bar, scatter and histogram charts, and control axes, labels, legends and "
            "figure layout.",
            ("Create figures and axes explicitly", "Choose the right chart for the question",
             "Label, annotate and export charts"),
            (("Matplotlib: Quick start guide",
              "https://matplotlib.org/stable/users/explain/quick_start.html"),),
        ),
        SkillOutline(
            "Statistical Graphics with seaborn", "seaborn", P, 90, 35, "Matplotlib",
            "Show distributions and relationships quickly with seaborn's high-level, "
            "DataFrame-aware plots.",
            ("Plot distributions with histograms and box plots",
             "Show relationships with scatter and regression plots", "Facet plots by category"),
            (("seaborn: User guide and tutorial", "https://seaborn.pydata.org/tutorial.html"),),
        ),
        SkillOutline(
            "Descriptive Statistics", "Descriptive Stats", K, 120, 45, "Group By",
            "Summarise data with measures of centre and spread, percentiles and correlation, and "
            "know their limits.",
            ("Compute mean, median, variance and standard deviation",
             "Read percentiles and spot outliers", "Measure and interpret correlation"),
            (("Python docs: statistics", "https://docs.python.org/3/library/statistics.html"),),
        ),
        SkillOutline(
            "Probability and Distributions", "Probability", K, 150, 50, "Descriptive Stats",
            "Reason about uncertainty with random variables and the normal, binomial and Poisson "
            "distributions.",
            ("Describe common probability distributions", "Simulate random samples with NumPy",
             "Explain the central limit theorem"),
            (("SciPy: Statistics (scipy.stats)",
              "https://docs.scipy.org/doc/scipy/tutorial/stats.html"),),
        ),
        SkillOutline(
            "Hypothesis Testing", "Hypothesis Tests", K, 150, 55, "Probability",
            "Decide whether a difference is real: t-tests, chi-squared tests, p-values and "
            "confidence intervals.",
            ("State null and alternative hypotheses",
             "Run t-tests and chi-squared tests with SciPy",
             "Interpret p-values and confidence intervals honestly"),
            (("SciPy: Statistics (scipy.stats)",
              "https://docs.scipy.org/doc/scipy/tutorial/stats.html"),),
        ),
        SkillOutline(
            "Exploratory Data Analysis Project", "EDA Project", J, 240, 120,
            "Merge & Reshape, seaborn, Descriptive Stats",
            "Take a public dataset from raw files to a written notebook of findings, with clean "
            "data and clear charts.",
            ("Frame questions before analysing", "Clean, combine and summarise a real dataset",
             "Present findings with charts and prose"),
            (("Kaggle Datasets", "https://www.kaggle.com/datasets"),),
            milestone=True,
        ),
        SkillOutline(
            "Machine Learning with scikit-learn", "scikit-learn", K, 180, 65,
            "EDA Project, Probability",
            "Fit your first supervised models (linear and logistic regression, decision trees) "
            "with one consistent API.",
            ("Split data into training and test sets",
             "Fit and predict with scikit-learn estimators",
             "Tell regression from classification problems"),
            (("scikit-learn: Getting Started",
              "https://scikit-learn.org/stable/getting_started.html"),),
        ),
        SkillOutline(
            "Feature Engineering", "Features", P, 150, 55, "scikit-learn",
            "Turn raw columns into useful model inputs: scaling, one-hot encoding, binning and "
            "pipelines.",
            ("Scale numeric features", "Encode categorical features",
             "Chain preprocessing and models in a Pipeline"),
            (("scikit-learn: Preprocessing data",
              "https://scikit-learn.org/stable/modules/preprocessing.html"),),
        ),
        SkillOutline(
            "Model Evaluation and Validation", "Model Evaluation", K, 150, 55,
            "scikit-learn, Hypothesis Tests",
            "Measure models honestly with cross-validation and the right metric, and recognise "
            "over- and under-fitting.",
            ("Use k-fold cross-validation", "Choose between accuracy, precision, recall and RMSE",
             "Diagnose overfitting with learning curves"),
            (("scikit-learn: Cross-validation",
              "https://scikit-learn.org/stable/modules/cross_validation.html"),),
        ),
        SkillOutline(
            "Capstone: Predictive Model", "Capstone", J, 360, 200, "Features, Model Evaluation",
            "Build, evaluate and explain a model that predicts a real outcome, from raw data to a "
            "short report.",
            ("Define a prediction target and a baseline",
             "Engineer features and compare models with cross-validation",
             "Report results and limitations to a non-specialist"),
            (("scikit-learn: User Guide", "https://scikit-learn.org/stable/user_guide.html"),),
            milestone=True,
        ),
    ),
)  # fmt: skip

SQL_AND_RELATIONAL_DATABASES = TreeOutline(
    slug="sql-and-relational-databases",
    name="SQL and Relational Databases",
    category="programming",
    difficulty=DifficultyLevel.BEGINNER,
    short_description="Query, design and tune relational databases with PostgreSQL",
    description=(
        "Write SQL from your first SELECT to window functions and recursive queries, design "
        "schemas the database can guard with constraints, and make queries fast with indexes and "
        "EXPLAIN."
    ),
    tags=("sql", "postgresql", "databases"),
    skills=(
        SkillOutline(
            "The Relational Model", "Relational Model", K, 60, 20, "",
            "Understand tables, rows, columns, keys and relationships, and why databases store "
            "data this way.",
            ("Explain tables, rows and columns", "Identify primary and foreign keys",
             "Read an entity-relationship diagram"),
            (("PostgreSQL Tutorial: Concepts",
              "https://www.postgresql.org/docs/current/tutorial-concepts.html"),),
        ),
        SkillOutline(
            "SELECT Queries", "SELECT", P, 90, 30, "Relational Model",
            "Read data with SELECT: choose columns, compute expressions and rename results with "
            "aliases.",
            ("Select columns and expressions", "Use aliases and DISTINCT", "Run queries in psql"),
            (("PostgreSQL Tutorial: Querying a Table",
              "https://www.postgresql.org/docs/current/tutorial-select.html"),),
        ),
        SkillOutline(
            "Filtering and Sorting", "WHERE & ORDER BY", P, 90, 30, "SELECT",
            "Keep only the rows you need with WHERE, NULL-aware conditions and pattern matching, "
            "then sort and page them.",
            ("Combine conditions with AND, OR and NOT", "Handle NULL with IS NULL and COALESCE",
             "Sort and paginate with ORDER BY, LIMIT and OFFSET"),
            (("PostgreSQL: Sorting Rows (ORDER BY)",
              "https://www.postgresql.org/docs/current/queries-order.html"),),
        ),
        SkillOutline(
            "Joins", "Joins", P, 120, 45, "WHERE & ORDER BY",
            "Combine related tables with inner, left, right and full outer joins, and avoid "
            "accidental row multiplication.",
            ("Write inner and outer joins", "Join a table to itself",
             "Spot and fix rows duplicated by a join"),
            (("PostgreSQL Tutorial: Joins Between Tables",
              "https://www.postgresql.org/docs/current/tutorial-join.html"),),
        ),
        SkillOutline(
            "Aggregate Functions", "Aggregates", P, 90, 35, "WHERE & ORDER BY",
            "Summarise many rows with COUNT, SUM, AVG, MIN and MAX, grouped with GROUP BY and "
            "filtered with HAVING.",
            ("Aggregate over groups with GROUP BY", "Filter groups with HAVING",
             "Count distinct values and use FILTER clauses"),
            (("PostgreSQL Tutorial: Aggregate Functions",
              "https://www.postgresql.org/docs/current/tutorial-agg.html"),),
        ),
        SkillOutline(
            "Modifying Data", "Modifying Data", P, 90, 30, "SELECT",
            "Add, change and remove rows safely, including upserts with ON CONFLICT and "
            "RETURNING.",
            ("Insert single and multiple rows", "Update and delete with precise WHERE clauses",
             "Upsert with ON CONFLICT"),
            (("PostgreSQL: Data Manipulation", "https://www.postgresql.org/docs/current/dml.html"),),
        ),
        SkillOutline(
            "Subqueries", "Subqueries", P, 90, 35, "Joins, Aggregates",
            "Nest queries inside queries: scalar subqueries, IN and EXISTS, and derived tables.",
            ("Use scalar and correlated subqueries", "Choose between IN, EXISTS and a join",
             "Query derived tables in FROM"),
            (("PostgreSQL: Subquery Expressions",
              "https://www.postgresql.org/docs/current/functions-subquery.html"),),
        ),
        SkillOutline(
            "Common Table Expressions", "CTEs", P, 90, 35, "Subqueries",
            "Break long queries into named steps with WITH, making complex reports readable and "
            "testable.",
            ("Write queries as a chain of CTEs", "Reuse a CTE several times in one query",
             "Refactor nested subqueries into CTEs"),
            (("PostgreSQL: WITH Queries (Common Table Expressions)",
              "https://www.postgresql.org/docs/current/queries-with.html"),),
        ),
        SkillOutline(
            "Window Functions", "Window Functions", P, 120, 50, "Aggregates, CTEs",
            "Compute running totals, rankings and moving averages without collapsing rows, using "
            "OVER and PARTITION BY.",
            ("Rank rows within partitions", "Compute running totals and moving averages",
             "Compare a row with the previous one using LAG"),
            (("PostgreSQL Tutorial: Window Functions",
              "https://www.postgresql.org/docs/current/tutorial-window.html"),),
        ),
        SkillOutline(
            "Recursive Queries", "Recursive CTEs", P, 90, 40, "CTEs",
            "Walk hierarchies and graphs (org charts, categories, prerequisites) with WITH "
            "RECURSIVE.",
            ("Write the anchor and recursive parts of a query", "Traverse a tree of any depth",
             "Guard against cycles"),
            (("PostgreSQL: Recursive Queries",
              "https://www.postgresql.org/docs/current/queries-with.html#QUERIES-WITH-RECURSIVE"),),
            optional=True,
        ),
        SkillOutline(
            "Schema Design and Normalisation", "Schema Design", K, 120, 45,
            "Joins, Modifying Data",
            "Design tables that avoid duplicated and contradictory data, using normal forms and "
            "sensible data types.",
            ("Model one-to-many and many-to-many relationships",
             "Normalise a table to third normal form", "Pick column types that fit the data"),
            (("PostgreSQL: Data Definition", "https://www.postgresql.org/docs/current/ddl.html"),),
        ),
        SkillOutline(
            "Constraints and Keys", "Constraints", P, 90, 35, "Schema Design",
            "Let the database guard your data with primary keys, foreign keys, UNIQUE, CHECK and "
            "NOT NULL.",
            ("Declare foreign keys with the right ON DELETE action",
             "Enforce rules with CHECK constraints", "Read constraint violation errors"),
            (("PostgreSQL: Constraints",
              "https://www.postgresql.org/docs/current/ddl-constraints.html"),),
        ),
        SkillOutline(
            "Transactions and Isolation", "Transactions", K, 90, 40, "Constraints",
            "Group changes so they succeed or fail together, and understand what concurrent "
            "transactions can see.",
            ("Use BEGIN, COMMIT and ROLLBACK", "Explain the ACID properties",
             "Choose an isolation level and retry serialization failures"),
            (("PostgreSQL Tutorial: Transactions",
              "https://www.postgresql.org/docs/current/tutorial-transactions.html"),),
        ),
        SkillOutline(
            "Indexes", "Indexes", K, 90, 40, "Constraints",
            "Make queries fast with B-tree, GIN and partial indexes, and know what each index "
            "costs on writes.",
            ("Create single-column and composite indexes", "Choose the index type for the query",
             "Weigh read speed against write cost"),
            (("PostgreSQL: Indexes", "https://www.postgresql.org/docs/current/indexes.html"),),
        ),
        SkillOutline(
            "Reading Query Plans", "EXPLAIN", P, 120, 50, "Indexes, Window Functions",
            "Find out why a query is slow with EXPLAIN ANALYZE: scans, joins, row estimates and "
            "where the time goes.",
            ("Read sequential, index and bitmap scans", "Compare estimated and actual row counts",
             "Fix a slow query and measure the gain"),
            (("PostgreSQL: Using EXPLAIN",
              "https://www.postgresql.org/docs/current/using-explain.html"),),
        ),
        SkillOutline(
            "JSON in PostgreSQL", "JSONB", P, 90, 35, "Constraints",
            "Store and query semi-structured data in jsonb columns, with operators, containment "
            "and GIN indexes.",
            ("Extract fields with -> and ->>", "Query by containment with @>",
             "Index jsonb with GIN"),
            (("PostgreSQL: JSON Functions and Operators",
              "https://www.postgresql.org/docs/current/functions-json.html"),),
            optional=True,
        ),
        SkillOutline(
            "Analytics Reporting Project", "Reporting Project", J, 240, 120,
            "EXPLAIN, Transactions",
            "Design a small sales schema, load sample data and write the monthly reports a "
            "business would ask for.",
            ("Design and constrain a schema from requirements",
             "Write reports with joins, CTEs and window functions",
             "Index the reports and prove the speed-up with EXPLAIN"),
            (("PostgreSQL Documentation", "https://www.postgresql.org/docs/current/index.html"),),
            milestone=True,
        ),
    ),
)  # fmt: skip

BACKEND_WITH_PYTHON = TreeOutline(
    slug="backend-web-development-with-python",
    name="Backend Web Development with Python",
    category="web-development",
    difficulty=DifficultyLevel.INTERMEDIATE,
    short_description="Build, secure, test and ship HTTP APIs with FastAPI and PostgreSQL",
    description=(
        "Design REST APIs and build them with FastAPI, Pydantic and SQLAlchemy on PostgreSQL; "
        "add authentication, tests, migrations and observability, and ship the service in a "
        "container."
    ),
    tags=("python", "fastapi", "sqlalchemy", "api"),
    featured=True,
    prerequisites=("sql-and-relational-databases",),
    skills=(
        SkillOutline(
            "How the Web Works: HTTP", "HTTP", K, 60, 25, "",
            "Follow a request from browser to server and back: methods, status codes, headers and "
            "bodies.",
            ("Name the HTTP methods and when to use each", "Read status codes and headers",
             "Inspect traffic with curl and the browser's developer tools"),
            (("MDN: An overview of HTTP", "https://developer.mozilla.org/en-US/docs/Web/HTTP/Overview"),),
        ),
        SkillOutline(
            "Virtual Environments and Packaging", "Packaging", P, 60, 20, "",
            "Isolate each project's dependencies with venv and pip, and describe a project in "
            "pyproject.toml.",
            ("Create and activate a virtual environment", "Install and pin dependencies",
             "Write a minimal pyproject.toml"),
            (("Python Packaging User Guide: Installing packages",
              "https://packaging.python.org/en/latest/tutorials/installing-packages/"),),
        ),
        SkillOutline(
            "Type Hints", "Type Hints", K, 60, 25, "Packaging",
            "Annotate functions and data with types, and let a checker such as mypy catch mistakes "
            "before they run.",
            ("Annotate parameters, return values and collections",
             "Use optional values, unions and generics", "Run mypy and read its errors"),
            (("Python docs: typing", "https://docs.python.org/3/library/typing.html"),
             ("mypy documentation", "https://mypy.readthedocs.io/en/stable/")),
        ),
        SkillOutline(
            "JSON and Serialisation", "JSON", P, 45, 20, "HTTP",
            "Turn Python objects into JSON and back, and handle dates, decimals and errors on the "
            "way.",
            ("Encode and decode JSON with the json module",
             "Serialise dates and decimals deliberately",
             "Reject malformed input cleanly"),
            (("Python docs: json", "https://docs.python.org/3/library/json.html"),),
        ),
        SkillOutline(
            "REST API Design", "REST Design", K, 90, 35, "JSON",
            "Design resource-oriented URLs, choose methods and status codes, and paginate and "
            "version an API.",
            ("Model resources and their URLs", "Pick status codes for success and failure",
             "Paginate and filter collections"),
            (("MDN: REST", "https://developer.mozilla.org/en-US/docs/Glossary/REST"),),
        ),
        SkillOutline(
            "FastAPI Fundamentals", "FastAPI", P, 150, 60, "REST Design, Type Hints",
            "Build an API with path operations, path and query parameters, and automatic OpenAPI "
            "documentation.",
            ("Declare routes with path and query parameters",
             "Return JSON responses with the right status codes",
             "Explore the generated OpenAPI docs"),
            (("FastAPI Tutorial - User Guide", "https://fastapi.tiangolo.com/tutorial/"),),
        ),
        SkillOutline(
            "Validation with Pydantic", "Pydantic", P, 90, 35, "FastAPI",
            "Describe request and response bodies as models so bad input is rejected with precise "
            "errors.",
            ("Define models with constrained fields", "Write custom validators",
             "Separate input and output schemas"),
            (("Pydantic: Models", "https://docs.pydantic.dev/latest/concepts/models/"),),
        ),
        SkillOutline(
            "Talking to PostgreSQL from Python", "psycopg", P, 90, 35, "Packaging",
            "Connect with psycopg, run parameterised queries and never build SQL by string "
            "concatenation.",
            ("Open connections and cursors", "Pass parameters safely to prevent SQL injection",
             "Manage transactions from Python"),
            (("Psycopg 3: Basic module usage",
              "https://www.psycopg.org/psycopg3/docs/basic/usage.html"),),
        ),
        SkillOutline(
            "SQLAlchemy ORM", "SQLAlchemy", P, 180, 65, "psycopg, Type Hints",
            "Map tables to typed Python classes, query with select(), and manage units of work "
            "with sessions.",
            ("Declare models with Mapped[] columns", "Query and join with select()",
             "Control transactions with the Session"),
            (("SQLAlchemy 2.0: ORM Quick Start",
              "https://docs.sqlalchemy.org/en/20/orm/quickstart.html"),),
        ),
        SkillOutline(
            "Migrations with Alembic", "Alembic", P, 90, 35, "SQLAlchemy",
            "Evolve a production schema safely with versioned, reviewable and reversible "
            "migrations.",
            ("Generate and edit a migration", "Upgrade and downgrade between revisions",
             "Change a column without losing data"),
            (("Alembic Tutorial", "https://alembic.sqlalchemy.org/en/latest/tutorial.html"),),
        ),
        SkillOutline(
            "Your First CRUD API", "CRUD API", J, 180, 100, "Pydantic, Alembic",
            "Put the pieces together: a validated, database-backed API that creates, reads, "
            "updates and deletes records.",
            ("Wire endpoints to a database session", "Return 404 and 409 where they belong",
             "Migrate the schema from scratch"),
            (("FastAPI: SQL (Relational) Databases",
              "https://fastapi.tiangolo.com/tutorial/sql-databases/"),),
            milestone=True,
        ),
        SkillOutline(
            "Testing with pytest", "pytest", P, 120, 45, "CRUD API",
            "Test endpoints and database code with fixtures, parametrisation and a real database "
            "rolled back after each test.",
            ("Write tests with plain assert", "Share setup with fixtures",
             "Test an API through a test client"),
            (("pytest: Get Started", "https://docs.pytest.org/en/stable/getting-started.html"),),
        ),
        SkillOutline(
            "Password Hashing and Authentication", "Authentication", K, 120, 50, "CRUD API",
            "Store passwords with a slow, salted hash such as argon2id, and log users in with "
            "sessions or tokens.",
            ("Hash and verify passwords with argon2id", "Issue and expire session tokens",
             "Resist user enumeration and timing attacks"),
            (("OWASP Password Storage Cheat Sheet",
              "https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html"),),
        ),
        SkillOutline(
            "Authorisation", "Authorisation", K, 90, 40, "Authentication",
            "Decide who may do what: roles, ownership checks and keeping authorisation in one "
            "place.",
            ("Check ownership before every change", "Model roles and permissions",
             "Return 401 and 403 correctly"),
            (("OWASP Authorization Cheat Sheet",
              "https://cheatsheetseries.owasp.org/cheatsheets/Authorization_Cheat_Sheet.html"),),
        ),
        SkillOutline(
            "Error Handling and Problem Details", "Errors", P, 60, 25, "CRUD API",
            "Report errors consistently as RFC 9457 problem+json, with useful messages and no "
            "leaked internals.",
            ("Map domain errors to HTTP statuses in one place", "Return problem+json bodies",
             "Log server errors without exposing them"),
            (("RFC 9457: Problem Details for HTTP APIs", "https://www.rfc-editor.org/rfc/rfc9457"),),
        ),
        SkillOutline(
            "Caching with Redis", "Redis", P, 90, 35, "CRUD API",
            "Speed up hot reads and rate-limit clients with Redis, and decide when a cache entry "
            "must be invalidated.",
            ("Cache responses with an expiry", "Invalidate entries when data changes",
             "Implement a simple rate limiter"),
            (("Redis documentation", "https://redis.io/docs/latest/"),),
            optional=True,
        ),
        SkillOutline(
            "Background Jobs", "Background Jobs", P, 90, 35, "CRUD API",
            "Move slow work such as emails and reports out of the request with a task queue.",
            ("Enqueue and run tasks outside the request", "Retry failed tasks safely",
             "Make tasks idempotent"),
            (("Celery: First steps with Celery",
              "https://docs.celeryq.dev/en/stable/getting-started/first-steps-with-celery.html"),),
            optional=True,
        ),
        SkillOutline(
            "Logging and Observability", "Observability", K, 60, 25, "Errors",
            "Know what your service is doing in production through structured logs, metrics and "
            "health checks.",
            ("Configure structured logging", "Expose health and readiness endpoints",
             "Add request timing metrics"),
            (("Python Logging HOWTO", "https://docs.python.org/3/howto/logging.html"),),
        ),
        SkillOutline(
            "Containerising the Service", "Docker", P, 90, 35, "pytest",
            "Package the API and its dependencies into a small, reproducible container image.",
            ("Write a multi-stage Dockerfile", "Configure the app through environment variables",
             "Run the API and PostgreSQL together locally"),
            (("Docker: Get started", "https://docs.docker.com/get-started/"),),
        ),
        SkillOutline(
            "Capstone: Task Tracker API", "Capstone", J, 480, 250,
            "Authorisation, Observability, Docker",
            "Ship a multi-user task tracker API with authentication, tests, migrations and a "
            "container image.",
            ("Design the resources and schema from user stories",
             "Secure every endpoint and test it",
             "Deliver a container that migrates and serves"),
            (("FastAPI: Bigger Applications",
              "https://fastapi.tiangolo.com/tutorial/bigger-applications/"),),
            milestone=True,
        ),
    ),
)  # fmt: skip

DEVOPS_FOUNDATIONS = TreeOutline(
    slug="devops-foundations",
    name="DevOps Foundations",
    category="devops",
    difficulty=DifficultyLevel.BEGINNER,
    short_description="Linux, Git, containers, CI/CD, infrastructure as code and monitoring",
    description=(
        "Go from the Linux command line to a monitored production pipeline: version control, "
        "containers, continuous integration, infrastructure as code, Kubernetes and the habits "
        "of site reliability engineering."
    ),
    tags=("linux", "docker", "ci-cd", "kubernetes"),
    skills=(
        SkillOutline(
            "The Linux Command Line", "Linux CLI", P, 120, 40, "",
            "Navigate the filesystem, manage files and processes, and read manual pages from a "
            "terminal.",
            ("Move around and manipulate files with core commands", "Inspect and stop processes",
             "Combine commands with pipes and redirection"),
            (("Ubuntu: The Linux command line for beginners",
              "https://ubuntu.com/tutorials/command-line-for-beginners"),),
        ),
        SkillOutline(
            "Version Control with Git", "Git", P, 120, 40, "",
            "Track changes, branch and merge, and collaborate through pull requests.",
            ("Commit, branch and merge", "Resolve merge conflicts",
             "Collaborate through a remote repository"),
            (("Pro Git book", "https://git-scm.com/book/en/v2"),),
        ),
        SkillOutline(
            "Shell Scripting", "Bash", P, 120, 45, "Linux CLI",
            "Automate repetitive tasks with Bash scripts that handle arguments, errors and exit "
            "codes.",
            ("Write scripts with variables, conditions and loops",
             "Fail fast with set -euo pipefail",
             "Parse arguments and return exit codes"),
            (("GNU Bash manual", "https://www.gnu.org/software/bash/manual/bash.html"),),
        ),
        SkillOutline(
            "Networking Fundamentals", "Networking", K, 90, 35, "Linux CLI",
            "Understand IP addresses, ports, DNS and TLS, and debug a connection that will not "
            "connect.",
            ("Explain IP, TCP, ports and DNS", "Debug connectivity with ping, dig and curl",
             "Describe what TLS protects"),
            (("MDN: How does the Internet work?",
              "https://developer.mozilla.org/en-US/docs/Learn/Common_questions/Web_mechanics/How_does_the_Internet_work"),),
        ),
        SkillOutline(
            "SSH and Remote Servers", "SSH", P, 60, 25, "Networking",
            "Log in to servers securely with key pairs, copy files and harden SSH access.",
            ("Generate and install SSH keys", "Copy files with scp and rsync",
             "Disable password logins"),
            (("OpenSSH manual pages", "https://www.openssh.com/manual.html"),),
        ),
        SkillOutline(
            "Containers with Docker", "Docker", P, 150, 55, "Bash",
            "Build images, run containers, and manage ports, volumes and environment variables.",
            ("Write a Dockerfile and build an image", "Run containers with ports and volumes",
             "Keep images small and secure"),
            (("Docker: Get started", "https://docs.docker.com/get-started/"),),
        ),
        SkillOutline(
            "Multi-Container Apps with Compose", "Compose", P, 90, 35, "Docker, Networking",
            "Describe an application and its database as services in one Compose file and run "
            "them together.",
            ("Define services, networks and volumes",
             "Pass configuration through environment files",
             "Start, stop and inspect a stack"),
            (("Docker Compose documentation", "https://docs.docker.com/compose/"),),
        ),
        SkillOutline(
            "Continuous Integration", "CI", P, 120, 45, "Git, Docker",
            "Run tests and builds on every push with GitHub Actions so broken code never reaches "
            "the main branch.",
            ("Write a workflow with jobs and steps", "Cache dependencies between runs",
             "Block merges on failing checks"),
            (("GitHub Actions documentation", "https://docs.github.com/en/actions"),),
        ),
        SkillOutline(
            "Ship a Containerised App", "Ship It", J, 180, 100, "Compose, CI, SSH",
            "Build, test and deploy a small web app and its database to a real server from a CI "
            "pipeline.",
            ("Build and push an image from CI", "Deploy to a server over SSH",
             "Roll back a bad release"),
            (("GitHub Actions: Publishing Docker images",
              "https://docs.github.com/en/actions/publishing-packages/publishing-docker-images"),),
            milestone=True,
        ),
        SkillOutline(
            "Infrastructure as Code with Terraform", "Terraform", P, 150, 55, "Ship It",
            "Declare servers, networks and DNS as code, review changes as plans and apply them "
            "repeatably.",
            ("Write providers, resources and variables", "Read a plan before applying it",
             "Store state safely"),
            (("Terraform tutorials", "https://developer.hashicorp.com/terraform/tutorials"),),
        ),
        SkillOutline(
            "Configuration Management with Ansible", "Ansible", P, 120, 45, "Ship It",
            "Configure many servers the same way with idempotent Ansible playbooks.",
            ("Write inventories and playbooks", "Use roles and templates",
             "Run playbooks idempotently"),
            (("Ansible: Getting started",
              "https://docs.ansible.com/ansible/latest/getting_started/index.html"),),
            optional=True,
        ),
        SkillOutline(
            "Kubernetes Fundamentals", "Kubernetes", K, 180, 65, "Ship It",
            "Run containers at scale with pods, deployments, services and rolling updates.",
            ("Deploy an app with a Deployment and a Service", "Scale and roll out new versions",
             "Debug pods with kubectl"),
            (("Kubernetes Basics", "https://kubernetes.io/docs/tutorials/kubernetes-basics/"),),
        ),
        SkillOutline(
            "Secrets Management", "Secrets", K, 60, 25, "CI",
            "Keep passwords, keys and tokens out of code and images, and rotate them without "
            "downtime.",
            ("Store secrets outside the repository", "Inject secrets at runtime",
             "Rotate a leaked credential"),
            (("OWASP Secrets Management Cheat Sheet",
              "https://cheatsheetseries.owasp.org/cheatsheets/Secrets_Management_Cheat_Sheet.html"),),
        ),
        SkillOutline(
            "Monitoring with Prometheus", "Prometheus", P, 120, 45, "Kubernetes",
            "Collect metrics from services, query them with PromQL and alert on the symptoms users "
            "feel.",
            ("Expose and scrape application metrics",
             "Write PromQL queries for rates and percentiles",
             "Alert on error rate and latency"),
            (("Prometheus: Overview", "https://prometheus.io/docs/introduction/overview/"),),
        ),
        SkillOutline(
            "Dashboards with Grafana", "Grafana", P, 60, 25, "Prometheus",
            "Turn metrics into dashboards that show the health of a service at a glance.",
            ("Connect Grafana to Prometheus", "Build panels for the four golden signals",
             "Share and version dashboards"),
            (("Grafana: Get started", "https://grafana.com/docs/grafana/latest/getting-started/"),),
            optional=True,
        ),
        SkillOutline(
            "Deployment Strategies", "Deployments", K, 60, 25, "Kubernetes",
            "Release without downtime using rolling, blue-green and canary deployments and "
            "feature flags.",
            ("Compare rolling, blue-green and canary releases",
             "Plan a database migration alongside a release", "Decide when to roll back"),
            (("Martin Fowler: BlueGreenDeployment",
              "https://martinfowler.com/bliki/BlueGreenDeployment.html"),),
        ),
        SkillOutline(
            "Incident Response and SRE Basics", "SRE", K, 90, 40, "Prometheus, Deployments",
            "Define service level objectives, respond to incidents calmly and learn from them "
            "with blameless postmortems.",
            ("Set SLIs and SLOs for a service", "Run an incident with clear roles",
             "Write a blameless postmortem"),
            (("Google SRE Book", "https://sre.google/sre-book/table-of-contents/"),),
        ),
        SkillOutline(
            "Capstone: Production Pipeline", "Capstone", J, 360, 200, "Terraform, SRE, Secrets",
            "Provision infrastructure with code, deploy through CI to Kubernetes, and monitor the "
            "service against an SLO.",
            ("Provision an environment with Terraform", "Deploy continuously with safe rollouts",
             "Alert on SLO burn and document the runbook"),
            (("Kubernetes documentation", "https://kubernetes.io/docs/home/"),),
            milestone=True,
        ),
    ),
)  # fmt: skip

UX_DESIGN_BASICS = TreeOutline(
    slug="ux-design-basics",
    name="UX Design Basics",
    category="design",
    difficulty=DifficultyLevel.BEGINNER,
    short_description="Research, structure, prototype and test designs people can use",
    description=(
        "Learn the user-centred design process: research real needs, structure information, "
        "sketch and prototype interfaces, design for accessibility and test with real people."
    ),
    tags=("ux", "research", "prototyping", "accessibility"),
    featured=True,
    skills=(
        SkillOutline(
            "What Is UX Design?", "UX Basics", K, 45, 20, "",
            "See how user experience spans research, structure, interaction and visual design, and "
            "what a UX designer does.",
            ("Define user experience and usability", "Name the main UX disciplines",
             "Describe a typical design process"),
            (("NN/g: The Definition of User Experience",
              "https://www.nngroup.com/articles/definition-user-experience/"),),
        ),
        SkillOutline(
            "Design Thinking", "Design Thinking", K, 60, 25, "UX Basics",
            "Work through empathise, define, ideate, prototype and test, and iterate when tests "
            "surprise you.",
            ("Explain the five stages of design thinking", "Write a problem statement",
             "Run a short ideation session"),
            (("IxDF: Design Thinking",
              "https://www.interaction-design.org/literature/topics/design-thinking"),),
        ),
        SkillOutline(
            "User Research Methods", "Research Methods", K, 90, 35, "Design Thinking",
            "Choose between interviews, surveys, diary studies and analytics based on what you "
            "need to learn.",
            ("Tell attitudinal from behavioural research", "Pick a method for a research question",
             "Plan a lightweight study"),
            (("NN/g: When to Use Which User-Experience Research Methods",
              "https://www.nngroup.com/articles/which-ux-research-methods/"),),
        ),
        SkillOutline(
            "User Interviews", "Interviews", P, 90, 35, "Research Methods",
            "Plan and run interviews that uncover real needs, without leading questions.",
            ("Write an interview guide", "Ask open, non-leading questions",
             "Synthesise notes into insights"),
            (("NN/g: User Interviews 101", "https://www.nngroup.com/articles/user-interviews/"),),
        ),
        SkillOutline(
            "Personas", "Personas", P, 60, 25, "Interviews",
            "Condense research into personas that keep the team focused on real users' goals.",
            ("Build personas from research data", "Focus personas on goals and context",
             "Use personas in design decisions"),
            (("NN/g: Personas Make Users Memorable", "https://www.nngroup.com/articles/persona/"),),
        ),
        SkillOutline(
            "Journey Mapping", "Journey Maps", P, 90, 35, "Personas",
            "Map a user's steps, thoughts and feelings across a task to find the moments worth "
            "fixing.",
            ("Chart stages, actions and emotions", "Spot pain points and opportunities",
             "Share a journey map with stakeholders"),
            (("NN/g: Journey Mapping 101", "https://www.nngroup.com/articles/journey-mapping-101/"),),
        ),
        SkillOutline(
            "Information Architecture", "Information Architecture", K, 90, 35, "Research Methods",
            "Organise and label content so people can find it, using card sorting and site maps.",
            ("Run an open card sort", "Draw a site map", "Label navigation in users' words"),
            (("NN/g: The Difference Between Information Architecture and Navigation",
              "https://www.nngroup.com/articles/ia-vs-navigation/"),),
        ),
        SkillOutline(
            "Sketching and Wireframing", "Wireframes", P, 120, 45,
            "Information Architecture, Journey Maps",
            "Explore layouts quickly on paper, then as low-fidelity wireframes that focus on "
            "structure rather than style.",
            ("Sketch several layout ideas fast", "Build low-fidelity wireframes",
             "Annotate wireframes for developers"),
            (("IxDF: Wireframing", "https://www.interaction-design.org/literature/topics/wireframing"),),
        ),
        SkillOutline(
            "Visual Hierarchy and Typography", "Visual Hierarchy", K, 90, 35, "Wireframes",
            "Guide the eye with size, contrast, spacing and type so the most important thing is "
            "seen first.",
            ("Set hierarchy with size, colour and spacing", "Choose and pair typefaces",
             "Build a type scale"),
            (("NN/g: Visual Hierarchy in UX",
              "https://www.nngroup.com/articles/visual-hierarchy-ux-definition/"),),
        ),
        SkillOutline(
            "Colour and Contrast", "Colour", K, 60, 25, "Visual Hierarchy",
            "Build a colour palette that carries meaning and meets WCAG contrast requirements.",
            ("Give each colour of a palette a role", "Check contrast ratios against WCAG",
             "Never rely on colour alone"),
            (("WCAG: Understanding Contrast (Minimum)",
              "https://www.w3.org/WAI/WCAG21/Understanding/contrast-minimum.html"),),
        ),
        SkillOutline(
            "Accessibility Fundamentals", "Accessibility", K, 90, 40, "Colour",
            "Design for everyone: keyboard use, screen readers, captions, focus order and clear "
            "language.",
            ("Explain the WCAG principles", "Design a visible focus and a logical order",
             "Write accessible labels and alt text"),
            (("W3C WAI: Introduction to Web Accessibility",
              "https://www.w3.org/WAI/fundamentals/accessibility-intro/"),),
        ),
        SkillOutline(
            "Prototyping in Figma", "Prototyping", P, 150, 55, "Wireframes, Visual Hierarchy",
            "Turn wireframes into clickable, high-fidelity prototypes with components, auto layout "
            "and interactions.",
            ("Build reusable components with variants", "Lay out screens with auto layout",
             "Link screens into an interactive prototype"),
            (("Figma: Guide to prototyping",
              "https://help.figma.com/hc/en-us/articles/360040314193-Guide-to-prototyping-in-Figma"),),
        ),
        SkillOutline(
            "Heuristic Evaluation", "Heuristics", K, 60, 25, "Prototyping",
            "Review an interface against Nielsen's ten usability heuristics to catch problems "
            "before testing.",
            ("Explain the ten usability heuristics", "Rate issues by severity",
             "Report findings with suggested fixes"),
            (("NN/g: 10 Usability Heuristics for User Interface Design",
              "https://www.nngroup.com/articles/ten-usability-heuristics/"),),
        ),
        SkillOutline(
            "Usability Testing", "Usability Testing", P, 120, 50, "Prototyping",
            "Watch real people use your prototype, find where they struggle and decide what to "
            "change.",
            ("Write realistic test tasks", "Moderate a session without helping",
             "Prioritise findings for the next iteration"),
            (("NN/g: Usability Testing 101", "https://www.nngroup.com/articles/usability-testing-101/"),),
        ),
        SkillOutline(
            "Design Systems", "Design Systems", K, 90, 35, "Prototyping",
            "Scale consistent design with shared components, tokens and guidelines.",
            ("Explain components, patterns and tokens", "Document how a component is used",
             "Keep design and code in sync"),
            (("NN/g: Design Systems 101", "https://www.nngroup.com/articles/design-systems-101/"),),
            optional=True,
        ),
        SkillOutline(
            "Portfolio Case Study", "Case Study", J, 300, 150,
            "Usability Testing, Heuristics, Accessibility",
            "Redesign a real product flow end to end and present the research, decisions and "
            "results as a case study.",
            ("Research and define a real problem", "Design, prototype and test a solution",
             "Tell the story of the process and its outcome"),
            (("IxDF: UX Portfolio", "https://www.interaction-design.org/literature/topics/ux-portfolio"),),
            milestone=True,
        ),
    ),
)  # fmt: skip

JAVASCRIPT_AND_REACT = TreeOutline(
    slug="javascript-and-react",
    name="Modern JavaScript and React",
    category="web-development",
    difficulty=DifficultyLevel.INTERMEDIATE,
    short_description="Make pages interactive with JavaScript, then build apps with React",
    description=(
        "Pick up where HTML and CSS stop: modern JavaScript, the DOM, asynchronous code and "
        "tooling, then React components, state, effects, forms, routing and tests."
    ),
    tags=("javascript", "react", "frontend"),
    prerequisites=("frontend-web-development",),
    skills=(
        SkillOutline(
            "JavaScript First Steps", "JS Basics", K, 90, 30, "",
            "Write your first scripts: variables with let and const, numbers, strings, booleans "
            "and operators.",
            ("Declare variables with let and const", "Work with strings, numbers and booleans",
             "Run JavaScript in the browser console"),
            (("MDN: JavaScript first steps",
              "https://developer.mozilla.org/en-US/docs/Learn/JavaScript/First_steps"),),
        ),
        SkillOutline(
            "Functions and Scope", "Functions", P, 90, 35, "JS Basics",
            "Declare functions and arrow functions, and understand scope, closures and this.",
            ("Write function declarations and arrow functions", "Explain block scope and closures",
             "Predict the value of this"),
            (("MDN: Functions", "https://developer.mozilla.org/en-US/docs/Web/JavaScript/Guide/Functions"),),
        ),
        SkillOutline(
            "Arrays and Objects", "Arrays & Objects", P, 90, 35, "JS Basics",
            "Model data with arrays and objects, and transform it with map, filter, reduce and "
            "destructuring.",
            ("Transform arrays with map, filter and reduce",
             "Destructure and spread objects and arrays", "Serialise data as JSON"),
            (("MDN: Indexed collections",
              "https://developer.mozilla.org/en-US/docs/Web/JavaScript/Guide/Indexed_collections"),),
        ),
        SkillOutline(
            "The DOM", "DOM", P, 90, 35, "Functions, Arrays & Objects",
            "Find, create and change page elements from JavaScript.",
            ("Select elements with querySelector", "Create and insert elements",
             "Change classes, attributes and text safely"),
            (("MDN: Introduction to the DOM",
              "https://developer.mozilla.org/en-US/docs/Web/API/Document_Object_Model/Introduction"),),
        ),
        SkillOutline(
            "Events", "Events", P, 60, 25, "DOM",
            "Respond to clicks, key presses and form submissions with event listeners and "
            "delegation.",
            ("Add and remove event listeners", "Prevent default behaviour",
             "Use event delegation for lists"),
            (("MDN: Introduction to events",
              "https://developer.mozilla.org/en-US/docs/Learn/JavaScript/Building_blocks/Events"),),
        ),
        SkillOutline(
            "Asynchronous JavaScript", "Async", K, 120, 45, "Functions",
            "Handle work that finishes later with promises and async/await, including errors and "
            "parallel requests.",
            ("Chain and combine promises", "Write async functions with await",
             "Handle rejections with try/catch"),
            (("MDN: Asynchronous JavaScript",
              "https://developer.mozilla.org/en-US/docs/Learn/JavaScript/Asynchronous"),),
        ),
        SkillOutline(
            "Fetching Data", "Fetch", P, 60, 25, "Async, Arrays & Objects",
            "Call JSON APIs with fetch, handle loading and error states, and cancel requests you "
            "no longer need.",
            ("GET and POST JSON with fetch", "Check the response status before parsing",
             "Cancel requests with AbortController"),
            (("MDN: Using the Fetch API",
              "https://developer.mozilla.org/en-US/docs/Web/API/Fetch_API/Using_Fetch"),),
        ),
        SkillOutline(
            "Modules and Tooling", "Tooling", P, 90, 30, "Functions",
            "Split code into ES modules and build it with npm and Vite for fast development and "
            "small bundles.",
            ("Import and export ES modules", "Manage dependencies with npm",
             "Start and build a Vite project"),
            (("MDN: JavaScript modules",
              "https://developer.mozilla.org/en-US/docs/Web/JavaScript/Guide/Modules"),
             ("Vite: Getting Started", "https://vite.dev/guide/")),
        ),
        SkillOutline(
            "Interactive To-Do App", "To-Do App", J, 180, 100, "Events, Fetch, Tooling",
            "Build a to-do app in plain JavaScript that renders from state, saves to an API and "
            "handles errors.",
            ("Render the interface from a single state object", "Persist items through a JSON API",
             "Show loading and error states"),
            (("MDN: Client-side web APIs",
              "https://developer.mozilla.org/en-US/docs/Learn/JavaScript/Client-side_web_APIs"),),
            milestone=True,
        ),
        SkillOutline(
            "TypeScript Essentials", "TypeScript", K, 120, 45, "Tooling",
            "Add static types to JavaScript to catch mistakes early and document intent.",
            ("Annotate variables, functions and objects", "Model data with interfaces and unions",
             "Configure the compiler in a Vite project"),
            (("TypeScript Handbook", "https://www.typescriptlang.org/docs/handbook/intro.html"),),
            optional=True,
        ),
        SkillOutline(
            "React Components and JSX", "Components", P, 120, 45, "To-Do App",
            "Describe an interface as a tree of components written in JSX, and render lists with "
            "keys.",
            ("Write function components in JSX", "Compose components and pass children",
             "Render lists with stable keys"),
            (("React: Your First Component", "https://react.dev/learn/your-first-component"),),
        ),
        SkillOutline(
            "Props and State", "State", P, 120, 45, "Components",
            "Pass data down with props, keep changing data in state and lift state up to share "
            "it.",
            ("Pass data and callbacks with props", "Update state with useState",
             "Lift state to a common parent"),
            (("React: State: A Component's Memory",
              "https://react.dev/learn/state-a-components-memory"),),
        ),
        SkillOutline(
            "Effects and Data Fetching", "Effects", P, 90, 40, "State",
            "Synchronise components with the outside world using useEffect, and know when you do "
            "not need an effect.",
            ("Fetch data in an effect with cleanup", "Avoid unnecessary effects",
             "Handle race conditions between requests"),
            (("React: Synchronizing with Effects",
              "https://react.dev/learn/synchronizing-with-effects"),),
        ),
        SkillOutline(
            "Forms in React", "Forms", P, 90, 35, "State",
            "Build controlled forms with validation, accessible error messages and submit "
            "handling.",
            ("Control inputs with state", "Validate input and show errors accessibly",
             "Submit forms to an API"),
            (("React: <input>", "https://react.dev/reference/react-dom/components/input"),),
        ),
        SkillOutline(
            "Client-Side Routing", "Routing", P, 60, 25, "Components",
            "Give a single-page app real URLs with nested routes, links and route parameters.",
            ("Define nested routes", "Read route parameters", "Navigate with links and redirects"),
            (("React Router", "https://reactrouter.com/home"),),
        ),
        SkillOutline(
            "Testing React Components", "Component Tests", P, 90, 40, "Forms, Effects",
            "Test components the way people use them with Testing Library: by role, label and "
            "text.",
            ("Render components in tests", "Query by role and label",
             "Simulate user events and wait for updates"),
            (("React Testing Library",
              "https://testing-library.com/docs/react-testing-library/intro/"),),
        ),
        SkillOutline(
            "Capstone: Portfolio Single-Page App", "Capstone", J, 360, 200,
            "Routing, Component Tests",
            "Ship a tested, routed React portfolio that loads projects from an API and deploys as "
            "static files.",
            ("Plan components and routes from wireframes",
             "Fetch, display and edit data, with tests",
             "Build and deploy the production bundle"),
            (("React: Quick Start", "https://react.dev/learn"),),
            milestone=True,
        ),
    ),
)  # fmt: skip

TREES = (
    PYTHON_FOR_DATA_SCIENCE,
    SQL_AND_RELATIONAL_DATABASES,
    BACKEND_WITH_PYTHON,
    DEVOPS_FOUNDATIONS,
    UX_DESIGN_BASICS,
    JAVASCRIPT_AND_REACT,
)
