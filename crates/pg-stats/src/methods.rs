//! The recording methods (`query`, `execute`, `query_raw`, …), written once
//! for the client and the transaction. Each runs its statement inside a
//! [`Call`](crate::call::Call), so a call whose future is dropped is
//! recorded too (as cancelled).

/// Generates the recording methods on a type with `conn()` (a tokio-postgres
/// client or transaction) and `registry`.
macro_rules! recording_methods {
    () => {
        /// Like tokio-postgres's `query`; recorded with the number of rows.
        pub async fn query<Q: Query + ?Sized>(
            &self,
            query: &Q,
            params: &[&(dyn ToSql + Sync)],
        ) -> Result<Vec<Row>, PgError> {
            let call = Call::start(&self.registry, query.sql(), Some(params));
            let result = match query.prepared() {
                Some(s) => self.conn().query(s, params).await,
                None => self.conn().query(query.sql(), params).await,
            };
            call.finish(Outcome::of(&result, |rows| rows.len() as u64));
            result
        }

        /// Like tokio-postgres's `query_one`: an error unless exactly one row.
        pub async fn query_one<Q: Query + ?Sized>(
            &self,
            query: &Q,
            params: &[&(dyn ToSql + Sync)],
        ) -> Result<Row, PgError> {
            let call = Call::start(&self.registry, query.sql(), Some(params));
            let result = match query.prepared() {
                Some(s) => self.conn().query_one(s, params).await,
                None => self.conn().query_one(query.sql(), params).await,
            };
            call.finish(Outcome::of(&result, |_| 1));
            result
        }

        /// Like tokio-postgres's `query_opt`: zero or one row.
        pub async fn query_opt<Q: Query + ?Sized>(
            &self,
            query: &Q,
            params: &[&(dyn ToSql + Sync)],
        ) -> Result<Option<Row>, PgError> {
            let call = Call::start(&self.registry, query.sql(), Some(params));
            let result = match query.prepared() {
                Some(s) => self.conn().query_opt(s, params).await,
                None => self.conn().query_opt(query.sql(), params).await,
            };
            call.finish(Outcome::of(&result, |row| u64::from(row.is_some())));
            result
        }

        /// Like tokio-postgres's `execute`; recorded with the rows affected.
        pub async fn execute<Q: Query + ?Sized>(
            &self,
            query: &Q,
            params: &[&(dyn ToSql + Sync)],
        ) -> Result<u64, PgError> {
            let call = Call::start(&self.registry, query.sql(), Some(params));
            let result = match query.prepared() {
                Some(s) => self.conn().execute(s, params).await,
                None => self.conn().execute(query.sql(), params).await,
            };
            call.finish(Outcome::of(&result, |rows| *rows));
            result
        }

        /// Like tokio-postgres's `query_raw`: rows as a stream. The call is
        /// recorded when the stream ends, or as cancelled when it is dropped
        /// before its last row, with the rows read. Parameter values are
        /// never logged for it.
        pub async fn query_raw<Q, P, I>(
            &self,
            query: &Q,
            params: I,
        ) -> Result<StatsRowStream, PgError>
        where
            Q: Query + ?Sized,
            P: BorrowToSql,
            I: IntoIterator<Item = P>,
            I::IntoIter: ExactSizeIterator,
        {
            let call = Call::start(&self.registry, query.sql(), None);
            let result = match query.prepared() {
                Some(s) => self.conn().query_raw(s, params).await,
                None => self.conn().query_raw(query.sql(), params).await,
            };
            match result {
                Ok(stream) => Ok(StatsRowStream::new(
                    stream,
                    Arc::clone(&self.registry),
                    query.sql(),
                    call.hand_over(),
                )),
                Err(e) => {
                    call.finish(Outcome::Failed(&e));
                    Err(e)
                }
            }
        }

        /// Like tokio-postgres's `batch_execute` (simple protocol, several
        /// statements allowed); recorded as one statement, 0 rows.
        pub async fn batch_execute(&self, sql: &str) -> Result<(), PgError> {
            let call = Call::start(&self.registry, sql, None);
            let result = self.conn().batch_execute(sql).await;
            call.finish(Outcome::of(&result, |_| 0));
            result
        }

        /// Prepares `sql` (not cached, not recorded).
        pub async fn prepare(&self, sql: &str) -> Result<StatsStatement, PgError> {
            let statement = self.conn().prepare(sql).await?;
            Ok(StatsStatement::new(statement, sql))
        }
    };
}

pub(crate) use recording_methods;
