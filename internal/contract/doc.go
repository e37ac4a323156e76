// Package contract holds fleetform's own requests to Kibana to Kibana's
// published contract: the Fleet OpenAPI document
// (testdata/kibana-openapi/kibana-fleet.openapi.yaml, or the team's ../shared copy),
// extended for what that extract lacks, each extension citing the Kibana
// source it follows.
//
// Tests record every request a fleetform Kibana client sends (Install, or
// Main from a package's TestMain, wraps the transport of every
// kibana.Client built afterwards) and Check validates method, path, query
// and body against the contract. It is test support: production code never
// imports it.
package contract
