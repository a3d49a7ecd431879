/** The Siteward gateway: the server and the {@code siteward} CLI. */
package dev.siteward.gateway;
