//! Listening TCP sockets with their accept queues, from the kernel's sock_diag netlink
//! interface (what `ss -ltn` uses).
//!
//! For a socket in LISTEN state the kernel reports the current accept queue length in
//! `idiag_rqueue` and the backlog it was given (capped by `somaxconn`) in `idiag_wqueue`.
//! Reading /proc/net/tcp would give neither: there the queues of listeners are zero.

use std::net::SocketAddr;

use netlink_packet_core::{
    NLM_F_DUMP, NLM_F_REQUEST, NetlinkHeader, NetlinkMessage, NetlinkPayload,
};
use netlink_packet_sock_diag::{
    AF_INET, AF_INET6, IPPROTO_TCP, SockDiagMessage,
    inet::{ExtensionFlags, InetRequest, SocketId, StateFlags},
};
use netlink_sys::{Socket, SocketAddr as NetlinkAddr, protocols::NETLINK_SOCK_DIAG};

use super::CollectError;

/// One listening socket as the kernel reports it, before its owner is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawListener {
    pub local: SocketAddr,
    pub accept_queue: u32,
    pub backlog: u32,
    /// The socket's inode, matched against `/proc/<pid>/fd` links to find its owner.
    pub inode: u64,
}

/// Dumps every listening TCP socket, IPv4 then IPv6, in the agent's network namespace.
pub fn collect() -> Result<Vec<RawListener>, CollectError> {
    let mut socket = Socket::new(NETLINK_SOCK_DIAG).map_err(netlink_err)?;
    socket.bind_auto().map_err(netlink_err)?;
    socket
        .connect(&NetlinkAddr::new(0, 0))
        .map_err(netlink_err)?;

    let mut listeners = dump(&socket, AF_INET)?;
    listeners.extend(dump(&socket, AF_INET6)?);
    listeners.sort_by_key(|l| (l.local.port(), l.local.is_ipv6(), l.local.ip()));
    Ok(listeners)
}

fn dump(socket: &Socket, family: u8) -> Result<Vec<RawListener>, CollectError> {
    let socket_id = if family == AF_INET {
        SocketId::new_v4()
    } else {
        SocketId::new_v6()
    };
    let mut header = NetlinkHeader::default();
    header.flags = NLM_F_REQUEST | NLM_F_DUMP;
    let mut request = NetlinkMessage::new(
        header,
        SockDiagMessage::InetRequest(InetRequest {
            family,
            protocol: IPPROTO_TCP,
            extensions: ExtensionFlags::empty(),
            states: StateFlags::LISTEN,
            socket_id,
        })
        .into(),
    );
    request.finalize();
    let mut buf = vec![0; request.buffer_len()];
    request.serialize(&mut buf);
    socket.send(&buf, 0).map_err(netlink_err)?;

    // A dump arrives as several datagrams, each holding several messages, until NLMSG_DONE.
    let mut found = Vec::new();
    let mut receive = vec![0u8; 64 * 1024];
    loop {
        let size = socket.recv(&mut &mut receive[..], 0).map_err(netlink_err)?;
        let mut offset = 0;
        while offset < size {
            let message = NetlinkMessage::<SockDiagMessage>::deserialize(&receive[offset..size])
                .map_err(|e| CollectError::Netlink(format!("undecodable answer: {e}")))?;
            let length = message.header.length as usize;
            match message.payload {
                NetlinkPayload::InnerMessage(SockDiagMessage::InetResponse(response)) => {
                    let header = &response.header;
                    found.push(RawListener {
                        local: SocketAddr::new(
                            header.socket_id.source_address,
                            header.socket_id.source_port,
                        ),
                        accept_queue: header.recv_queue,
                        backlog: header.send_queue,
                        inode: u64::from(header.inode),
                    });
                }
                NetlinkPayload::Done(_) => return Ok(found),
                NetlinkPayload::Error(error) => {
                    return Err(CollectError::Netlink(format!(
                        "kernel error {:?}",
                        error.code
                    )));
                }
                _ => {}
            }
            if length == 0 {
                break;
            }
            offset += length;
        }
    }
}

fn netlink_err(error: std::io::Error) -> CollectError {
    CollectError::Netlink(error.to_string())
}
