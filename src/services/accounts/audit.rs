//! The audit log: who did what, from which network.

#[allow(unused_imports)]
use super::*;

impl AccountService {
    /// Records a security-relevant action; a failure to log is reported but does not undo it.
    /// The target is cut to a bounded length: the log must not grow by what a caller sends.
    pub fn audit(&self, actor: &str, action: &str, target: &str, origin: Option<Origin>) {
        let entry = AuditEntry {
            at: self.now(),
            actor: actor.to_string(),
            action: action.to_string(),
            target: bounded(target, MAX_AUDIT_TARGET_BYTES),
            ip: origin.map(|o| audit_ip(o.ip)).unwrap_or_default(),
        };
        if let Err(e) = self.store.audit(&entry) {
            tracing::error!(error = %e, action, "audit log write failed");
        }
    }

    pub fn audit_log(&self, caller: &Caller, limit: u32) -> Result<Vec<AuditEntry>, AuthError> {
        instance_admin(&caller.principal)?;
        Ok(self.store.audit_log(limit)?)
    }

    /// Deletes audit log entries older than `keep_days` days (0 keeps everything); a daily job.
    pub fn prune_audit(&self, keep_days: u32) -> Result<u64, AuthError> {
        if keep_days == 0 {
            return Ok(0);
        }
        Ok(self.store.prune_audit(self.now() - i64::from(keep_days) * DAY)?)
    }
}
