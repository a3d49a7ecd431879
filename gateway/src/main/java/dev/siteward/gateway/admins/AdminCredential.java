package dev.siteward.gateway.admins;

/**
 * What adding or renewing an admin hands back: the admin, their certificate chain (leaf, issuing CA; PEM) and the
 * site root (PEM) to trust. The private key never travels: it stays where the CSR was made.
 */
public record AdminCredential(Admin admin, String chain, String root) {
}
