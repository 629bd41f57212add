"""integrations: external completions through signed webhooks (Standard Webhooks)

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-07

Issue 14, part 5. Until now an EXTERNAL completion was the learner's own word
(`POST /skills/{id}/complete` with `method: EXTERNAL`). Now an integration (an LMS, a coding
platform, CI) registered by an author (for a tree) or an admin (for the platform) completes a
skill for a learner through a webhook signed per the Standard Webhooks specification, and
nothing else completes a skill by EXTERNAL.

- `integrations`: name, the tree it may complete skills of (none: the platform's), active or
  disabled, who made it. The API's role reads and writes them (the API checks who may).
- `integration_secrets`: each integration's signing secrets (`whsec_...`), several at once
  while one is rotated out, each until it is removed or its `expires_at`. The API's role may
  add, expire and remove secrets and read everything of them **but the secret**: only
  `integration_signing_secrets(integration, now)` (SECURITY DEFINER) answers an active
  integration's live secrets, for the webhook endpoint that verifies a delivery's signature.
- `integration_deliveries` (a learner table: `user_id` leads its key; row-level security on,
  no policy and no privilege for the API's role): one row per accepted webhook-id, per
  integration and learner, with the SHA-256 of its body and the completion's answer. Written
  only by `integration_complete`.
- `integration_complete(...)` (SECURITY DEFINER, for the transaction's learner only): records
  the delivery (a second delivery of the same webhook-id, also one racing the first, answers
  the first's outcome and completes nothing; the same id with another body is refused) and
  completes the skill through `progress_skill_event` by EXTERNAL, with evidence naming the
  integration and the webhook-id, in the caller's transaction.
- Triggers `user_skill_progress_signed_delivery_insert` / `_update` (function
  `integration_delivery_required`, SECURITY DEFINER: it reads the deliveries) refuse, for every
  writer, a row that becomes COMPLETED by EXTERNAL unless its evidence names a delivery being
  completed for this learner and skill: a learner cannot claim EXTERNAL themselves. Named to
  fire after `user_skill_progress_method_allowed_*` (a method the policy leaves out is still
  refused as that). The engine itself is unchanged.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0033"
down_revision: str | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UPGRADE = r"""
CREATE TABLE integrations (
    id text NOT NULL,
    name character varying(100) NOT NULL,
    skill_tree_id text,
    is_active boolean DEFAULT true NOT NULL,
    created_by text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT integrations_pkey PRIMARY KEY (id),
    CONSTRAINT integrations_skill_tree_id_fkey FOREIGN KEY (skill_tree_id)
        REFERENCES skill_trees(id) ON DELETE CASCADE
);
CREATE INDEX idx_integration_tree ON integrations USING btree (skill_tree_id);
CREATE TRIGGER integrations_set_updated_at BEFORE UPDATE ON integrations
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
COMMENT ON TABLE integrations IS 'Systems that complete skills for learners through signed webhooks (method EXTERNAL): of one tree (skill_tree_id) or of the platform (NULL).';

CREATE TABLE integration_secrets (
    integration_id text NOT NULL,
    id text NOT NULL,
    secret text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone,
    CONSTRAINT integration_secrets_pkey PRIMARY KEY (integration_id, id),
    CONSTRAINT integration_secrets_integration_id_fkey FOREIGN KEY (integration_id)
        REFERENCES integrations(id) ON DELETE CASCADE,
    CONSTRAINT integration_secrets_secret_check CHECK (secret ~ '^whsec_[A-Za-z0-9+/]{32,}={0,2}$')
);
COMMENT ON TABLE integration_secrets IS 'Signing secrets of integrations (Standard Webhooks whsec_...), each valid until removed or expires_at: the secret only through integration_signing_secrets.';
-- The API's role adds, expires and removes secrets and never reads one.
REVOKE ALL ON integration_secrets FROM skilltree_app;
GRANT INSERT, DELETE ON integration_secrets TO skilltree_app;
GRANT SELECT (integration_id, id, created_at, expires_at) ON integration_secrets TO skilltree_app;
GRANT UPDATE (expires_at) ON integration_secrets TO skilltree_app;

CREATE TABLE integration_deliveries (
    user_id text NOT NULL,
    integration_id text NOT NULL,
    webhook_id text NOT NULL,
    skill_id text NOT NULL,
    body_sha256 text NOT NULL,
    received_at timestamp with time zone NOT NULL,
    answer jsonb,
    CONSTRAINT integration_deliveries_pkey PRIMARY KEY (user_id, integration_id, webhook_id),
    CONSTRAINT integration_deliveries_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id)
        ON DELETE CASCADE,
    CONSTRAINT integration_deliveries_integration_id_fkey FOREIGN KEY (integration_id)
        REFERENCES integrations(id) ON DELETE CASCADE
);
CREATE INDEX idx_integration_delivery_received ON integration_deliveries
    USING btree (integration_id, received_at);
COMMENT ON TABLE integration_deliveries IS 'Accepted webhook deliveries (one per webhook-id, integration and learner) with the SHA-256 of their body and the completion''s answer. Written only by integration_complete.';
ALTER TABLE integration_deliveries ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON integration_deliveries FROM skilltree_app;

CREATE FUNCTION integration_signing_secrets(p_integration text, p_now timestamp with time zone)
 RETURNS jsonb
 LANGUAGE sql
 STABLE SECURITY DEFINER
 SET search_path TO 'public', 'pg_temp'
AS $function$
    -- The one way to an integration's secrets: those live at p_now of an active integration
    -- (newest first), with its id, name and tree; NULL for an unknown or disabled one.
    SELECT jsonb_build_object('id', i.id, 'name', i.name, 'treeId', i.skill_tree_id,
        'secrets', coalesce((SELECT jsonb_agg(s.secret ORDER BY s.created_at DESC, s.id)
                             FROM integration_secrets s
                             WHERE s.integration_id = i.id
                               AND (s.expires_at IS NULL OR s.expires_at > p_now)), '[]'))
    FROM integrations i WHERE i.id = p_integration AND i.is_active
$function$;
REVOKE ALL ON FUNCTION integration_signing_secrets(text, timestamp with time zone) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION integration_signing_secrets(text, timestamp with time zone) TO skilltree_app;

CREATE FUNCTION integration_complete(p_integration text, p_webhook_id text, p_body_sha256 text, p_user text, p_skill text, p_now timestamp with time zone, p_score double precision DEFAULT NULL::double precision, p_minutes integer DEFAULT 0, p_url text DEFAULT NULL::text)
 RETURNS jsonb
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'public', 'pg_temp'
AS $function$
DECLARE
    integration integrations;
    skill record;
    earlier integration_deliveries;
    outcome jsonb;
BEGIN
    -- Only for the transaction's learner: the webhook endpoint makes the delivery's learner
    -- the learner once the delivery's signature is verified.
    IF coalesce(current_setting('app.current_user_id', true), '') IS DISTINCT FROM p_user THEN
        RAISE EXCEPTION 'only learner % may be completed by this delivery', p_user
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT * INTO integration FROM integrations WHERE id = p_integration AND is_active;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('refused', 'UnknownIntegration');
    ELSIF NOT EXISTS (SELECT FROM users WHERE id = p_user AND is_active) THEN
        RETURN jsonb_build_object('refused', 'UnknownLearner');
    END IF;
    -- A tree's integration completes the skills of that tree only.
    SELECT s.skill_tree_id AS tree_id, t.created_by INTO skill
    FROM skills s JOIN skill_trees t ON t.id = s.skill_tree_id WHERE s.id = p_skill;
    IF NOT FOUND OR integration.skill_tree_id <> skill.tree_id THEN
        RETURN jsonb_build_object('refused', 'UnknownSkill');
    END IF;
    -- One answer per webhook-id (and learner): a second delivery of it, also one racing the
    -- first (it waits here for the first's transaction to end), answers the first's outcome
    -- and completes nothing; the same id with another body is refused.
    INSERT INTO integration_deliveries (
        user_id, integration_id, webhook_id, skill_id, body_sha256, received_at)
    VALUES (p_user, p_integration, p_webhook_id, p_skill, p_body_sha256, p_now)
    ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        SELECT * INTO STRICT earlier FROM integration_deliveries
        WHERE user_id = p_user AND integration_id = p_integration AND webhook_id = p_webhook_id;
        IF earlier.body_sha256 <> p_body_sha256 OR earlier.skill_id <> p_skill THEN
            RETURN jsonb_build_object('refused', 'WebhookIdReused');
        END IF;
        RETURN jsonb_build_object('repeated', true, 'outcome', earlier.answer);
    END IF;
    -- Through the engine, with every consequence of a completion and the skill's policy; a
    -- draft's skill only for a learner who may see the draft (its author, an admin).
    outcome := progress_skill_event(
        'COMPLETE', p_user, p_skill, p_now,
        skill.created_by IS NOT DISTINCT FROM p_user
            OR EXISTS (SELECT FROM users WHERE id = p_user AND role = 'ADMIN'),
        'EXTERNAL', p_score, NULL,
        jsonb_build_object(
            'type', CASE WHEN p_url IS NULL THEN 'text' ELSE 'url' END,
            'content', coalesce(p_url, 'Completed in ' || integration.name),
            'metadata', jsonb_build_object('integrationId', integration.id,
                                           'integration', integration.name,
                                           'webhookId', p_webhook_id)),
        coalesce(p_minutes, 0));
    UPDATE integration_deliveries d SET answer = outcome
    WHERE d.user_id = p_user AND d.integration_id = p_integration
      AND d.webhook_id = p_webhook_id;
    RETURN jsonb_build_object('repeated', false, 'outcome', outcome);
END
$function$;
REVOKE ALL ON FUNCTION integration_complete(text, text, text, text, text, timestamp with time zone, double precision, integer, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION integration_complete(text, text, text, text, text, timestamp with time zone, double precision, integer, text) TO skilltree_app;

CREATE FUNCTION integration_delivery_required()
 RETURNS trigger
 LANGUAGE plpgsql
 SECURITY DEFINER
 SET search_path TO 'public', 'pg_temp'
AS $function$
BEGIN
    -- A row COMPLETED by EXTERNAL names, in its evidence, a delivery that integration_complete
    -- is completing now (its answer not written yet) for this learner and skill, whoever
    -- writes it: a learner (or any writer) cannot claim an EXTERNAL completion themselves.
    IF NOT EXISTS (
        SELECT FROM integration_deliveries d
        WHERE d.user_id = NEW.user_id
          AND d.integration_id = NEW.evidence_data->'metadata'->>'integrationId'
          AND d.webhook_id = NEW.evidence_data->'metadata'->>'webhookId'
          AND d.skill_id = NEW.skill_id AND d.answer IS NULL) THEN
        RAISE EXCEPTION 'skill % is completed by EXTERNAL only through a signed webhook of an integration',
                        NEW.skill_id
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'user_skill_progress_signed_delivery',
                  TABLE = 'user_skill_progress';
    END IF;
    RETURN NEW;
END
$function$;
REVOKE ALL ON FUNCTION integration_delivery_required() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION integration_delivery_required() TO skilltree_app;
CREATE TRIGGER user_skill_progress_signed_delivery_insert BEFORE INSERT ON user_skill_progress
    FOR EACH ROW
    WHEN (NEW.status = 'COMPLETED' AND NEW.completion_method = 'EXTERNAL')
    EXECUTE FUNCTION integration_delivery_required();
CREATE TRIGGER user_skill_progress_signed_delivery_update
    BEFORE UPDATE OF status, completion_method, evidence_data, skill_id ON user_skill_progress
    FOR EACH ROW
    WHEN (NEW.status = 'COMPLETED' AND NEW.completion_method = 'EXTERNAL'
          AND (OLD.status <> 'COMPLETED' OR OLD.completion_method IS DISTINCT FROM 'EXTERNAL'
               OR OLD.evidence_data IS DISTINCT FROM NEW.evidence_data
               OR OLD.skill_id <> NEW.skill_id))
    EXECUTE FUNCTION integration_delivery_required();
"""

DOWNGRADE = r"""
DROP TRIGGER user_skill_progress_signed_delivery_update ON user_skill_progress;
DROP TRIGGER user_skill_progress_signed_delivery_insert ON user_skill_progress;
DROP FUNCTION integration_delivery_required();
DROP FUNCTION integration_complete(text, text, text, text, text, timestamp with time zone, double precision, integer, text);
DROP FUNCTION integration_signing_secrets(text, timestamp with time zone);
DROP TABLE integration_deliveries;
DROP TABLE integration_secrets;
DROP TABLE integrations;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
