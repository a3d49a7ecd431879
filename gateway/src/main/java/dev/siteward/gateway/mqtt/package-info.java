/**
 * MQTT 5 for sensors: the embedded broker (HiveMQ Community Edition) on a TLS listener that requires site-CA client
 * certificates, the identity and topic rights every client gets at CONNECT, the cut-off of revoked or suspended
 * clients, and the external-broker option (Mosquitto configuration and control). The contract devices build against
 * is docs/mqtt.md. Inference over MQTT lives in {@code dev.siteward.gateway.inference} and uses only the topics and
 * the service identity defined here.
 */
package dev.siteward.gateway.mqtt;
