//! libipvs's `ipvs_strerror`: the message for an errno depends on the operation that got it.

use rvs_api::{ApiError, ClientError, ErrorKind, errno};

/// The libipvs function an error came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    /// Opening the control channel.
    Init,
    /// `ipvs_add_service`.
    AddService,
    /// `ipvs_update_service`.
    UpdateService,
    /// `ipvs_del_service`.
    DelService,
    /// `ipvs_zero_service`.
    ZeroService,
    /// `ipvs_flush`.
    Flush,
    /// `ipvs_add_dest`.
    AddDest,
    /// `ipvs_update_dest`.
    UpdateDest,
    /// `ipvs_del_dest`.
    DelDest,
    /// `ipvs_set_timeout`.
    SetTimeout,
    /// `ipvs_start_daemon`.
    StartDaemon,
    /// `ipvs_stop_daemon`.
    StopDaemon,
    /// `ipvs_get_services`.
    GetServices,
    /// `ipvs_get_dests`.
    GetDests,
    /// `ipvs_get_service`.
    GetService,
    /// `ipvs_get_timeout`, `ipvs_get_daemon`, `ipvs_getinfo`.
    Get,
}

/// The message libipvs gives for `err` from `func` (falling back to `strerror`).
pub fn ipvs_strerror(func: Func, err: i32) -> String {
    use Func::*;
    let specific: &[(Func, i32, &str)] = &[
        (AddService, errno::EEXIST, "Service already exists"),
        (
            AddService,
            errno::ENOENT,
            "Scheduler or persistence engine not found",
        ),
        (UpdateService, errno::ESRCH, "No such service"),
        (
            UpdateService,
            errno::ENOENT,
            "Scheduler or persistence engine not found",
        ),
        (DelService, errno::ESRCH, "No such service"),
        (ZeroService, errno::ESRCH, "No such service"),
        (AddDest, errno::ESRCH, "Service not defined"),
        (AddDest, errno::EEXIST, "Destination already exists"),
        (UpdateDest, errno::ESRCH, "Service not defined"),
        (UpdateDest, errno::ENOENT, "No such destination"),
        (DelDest, errno::ESRCH, "Service not defined"),
        (DelDest, errno::ENOENT, "No such destination"),
        (StartDaemon, errno::EEXIST, "Daemon has already run"),
        (StopDaemon, errno::ESRCH, "No daemon is running"),
        (GetServices, errno::ESRCH, "No such service"),
        (GetDests, errno::ESRCH, "No such service"),
        (GetService, errno::ESRCH, "No such service"),
    ];
    let any: &[(i32, &str)] = &[
        (errno::EPERM, "Permission denied (you must be root)"),
        (
            errno::EINVAL,
            "Invalid operation.  Possibly wrong module version, address not unicast, ...",
        ),
        (errno::ENOPROTOOPT, "Protocol not available"),
        (errno::ENOMEM, "Memory allocation problem"),
        (errno::EOPNOTSUPP, "Operation not supported with IPv6"),
        (
            errno::EAFNOSUPPORT,
            "Operation not supported with specified address family",
        ),
        (errno::EMSGSIZE, "Module is wrong version"),
    ];
    if let Some((_, _, m)) = specific.iter().find(|(f, e, _)| *f == func && *e == err) {
        return (*m).to_string();
    }
    if let Some((_, m)) = any.iter().find(|(e, _)| *e == err) {
        return (*m).to_string();
    }
    strerror(err)
}

/// C `strerror` text for an errno.
pub fn strerror(err: i32) -> String {
    let s = std::io::Error::from_raw_os_error(err).to_string();
    match s.rfind(" (os error ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// What ipvsadm would print for a failed call: the mapped message, or — for what rvsd
/// cannot do yet — rvsd's own message naming the feature.
pub fn message(func: Func, e: &ClientError) -> String {
    match e {
        ClientError::Api(a) => api_message(func, a),
        ClientError::Io(io) => match io.raw_os_error() {
            Some(n) => ipvs_strerror(func, n),
            None => format!("rvsd: {io}"),
        },
        ClientError::Protocol(p) => format!("rvsd: {p}"),
    }
}

/// The message for an error answer.
pub fn api_message(func: Func, a: &ApiError) -> String {
    match a.kind {
        ErrorKind::Unsupported
        | ErrorKind::BadRequest
        | ErrorKind::BadVersion
        | ErrorKind::Internal => a.message.clone(),
        _ => ipvs_strerror(func, a.errno),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_operation_messages() {
        assert_eq!(
            ipvs_strerror(Func::AddService, errno::EEXIST),
            "Service already exists"
        );
        assert_eq!(
            ipvs_strerror(Func::AddDest, errno::ESRCH),
            "Service not defined"
        );
        assert_eq!(
            ipvs_strerror(Func::DelService, errno::ESRCH),
            "No such service"
        );
        assert_eq!(
            ipvs_strerror(Func::AddDest, errno::ENOENT),
            "No such file or directory"
        );
        assert_eq!(
            ipvs_strerror(Func::AddDest, 34),
            "Numerical result out of range"
        );
        assert_eq!(
            ipvs_strerror(Func::Flush, errno::EINVAL),
            "Invalid operation.  Possibly wrong module version, address not unicast, ..."
        );
    }
}
