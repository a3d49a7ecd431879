/** TLS socket settings shared by the gateway's and the device SDK's clients. */
package dev.siteward.pki.tls;
