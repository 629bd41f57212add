-- visible_trees: the trees the viewer may see (skilltree.catalog.visibility.may_view_tree, asked in
-- Python for the viewer's two draft rights), narrowed by the category and tag filters.
visible_trees AS (
    SELECT t.id, t.slug, t.name, t.tags, t.difficulty, c.slug AS category
      FROM skill_trees t
      JOIN skill_categories c ON c.id = t.category_id
     WHERE (t.is_published
            OR CAST(%(all_drafts)s AS boolean)
            OR (CAST(%(own_drafts)s AS boolean) AND t.created_by = CAST(%(viewer)s AS text)))
       AND (CAST(%(category)s AS text) IS NULL OR c.slug = CAST(%(category)s AS text))
       AND (CAST(%(tag)s AS text) IS NULL OR t.tags @> ARRAY[CAST(%(tag)s AS text)])
)
