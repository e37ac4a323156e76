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
//     the sync or reject the output before anything is written;
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
//     reverse dependency order (see prune.go); without it the plan warns.
//
// [Engine] wires these to the clusters: it observes every remote declared
// under clusters.remotes (list calls), turns the decisions into plan
// changes grouped by cluster, mints generated secrets for the reconciler
// (it is the reconciler's Minter), and applies the remote side before and
// after the main cluster. [TwoCluster] pairs it with the reconciler behind
// the reconciler's own Plan/Apply signatures; [Connect] builds both from a
// document. What the Engine must remember between runs (rotation journals,
// packages seen installed on main, direct-sync failures, objects it
// created) lives in the main cluster's state index, never a secret value.
package remote
