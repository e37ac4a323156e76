// Package remote holds everything fleetform knows about remote clusters: the
// clusters that remote_elasticsearch outputs ship data to and that receive
// the main cluster's integrations (Kibana's "synced integrations", stack 9.1+).
//
// It is organised as pure decisions over small observed types, plus the
// code that observes and changes the remote clusters through the clients:
//
//   - [DecideSync] is the direct-sync decision (sync_via: direct): which
//     packages to install on a remote and which uninstalls to propagate;
//   - [Preflight] lists the problems that would make the remote side ignore
//     the sync or reject the output before anything is written; version.go
//     adds what a remote's versions cannot do (Kibana's sync task from 9.1.0,
//     Elasticsearch's elastic/fleet-server-remote account, whose tokens a
//     generated service token is, from 8.12.0);
//   - [Desired] derives the remote-side objects an output needs: a service
//     token on elastic/fleet-server-remote, a Kibana API key, the
//     remote-cluster link, the follower index and a matching elasticsearch
//     output on the remote;
//   - [ComputeStatus] reproduces Kibana's per-integration sync status
//     vocabulary (completed, synchronizing, failed, warning) for direct mode;
//   - [Rotation] is the credential rotation state machine, journaled so that
//     an interrupted rotation resumes or rolls back;
//   - ownership (owned.go): the intent to create a remote object is
//     journalled in the state index before the create, so a run killed at
//     any write leaves objects the next run recognises as fleetform's;
//   - prune (Config.Prune, --prune) deletes the remote objects fleetform
//     created for outputs that left the document, per the state index, in
//     reverse dependency order (prune.go walks the kinds' prune); without
//     it the plan warns.
//
// One model for both sides: remote objects are kinds with a cluster. Each
// remote kind has a file of its own holding how it is planned, applied and
// pruned — kind_link.go (remote_cluster), kind_esoutput.go (the remote's
// output), kind_credentials.go (service_token, api_key), kind_follower.go
// (follower_index), kind_package.go (directly synced packages) — and the
// Engine walks their table (kinds.go) in dependency order. Their
// dependencies come from references (every object made for an output on
// the main output's change, so a main output blocked or failing leaves
// nothing of its sync on the remote; a follower also on its link, a
// synced package on the main package and the remote output created with
// it; deletes in reverse), and the table of kinds is part of the plan's
// one table (plan.SetKindOrder), after the main cluster's kinds.
//
// [Engine] wires these to the clusters: it observes every remote declared
// under clusters.remotes (list calls), turns the decisions into plan
// changes and mints generated secrets for the reconciler (it is the
// reconciler's Minter). [TwoCluster] contributes the remote changes to the
// reconciler's own plan as steps (apply.go, reconciler.Clusters), so one
// executor — the reconciler's — orders, applies and prunes both sides and
// the plan's order is the apply order: the main cluster first, then the
// remotes kind by kind (every remote's link and own output before any
// change computed from the main cluster's result, which runs on a fresh
// observation of the remotes made once, after it). [Connect] builds both from a
// document.
//
// What the Engine must remember between runs (rotation journals, packages
// seen installed on main, direct-sync failures, objects it created) lives
// in the main cluster's state index (ledger.go), never a secret value. The
// ledger is the remote kinds' ownership store; its stored format is
// unchanged by the move to one executor, so existing state loads as is.
package remote
