/** Site PKI: certificates, CSRs, CRLs, chain validation and model signatures. */
package dev.siteward.pki;
